"""Shared setup for the black-box tests with the official Python SDK.

The Rust integration test `blackbox` starts two `nubo serve` processes and
runs pytest with:
  CLOUDINARY_URL      the main server (remote fetches of private addresses allowed)
  NUBO_STRICT_PREFIX  upload_prefix of a second server with the default SSRF guard
  NUBO_FIXTURES       the media fixtures directory
"""
import functools
import http.server
import os
import threading

import cloudinary
import pytest

FIXTURES = os.environ["NUBO_FIXTURES"]


def fixture(name):
    return os.path.join(FIXTURES, name)


@pytest.fixture(autouse=True)
def _fresh_config():
    # CLOUDINARY_URL is read once at import; reset per test so a test that
    # changes config cannot leak into the next one.
    cloudinary.reset_config()
    yield


@pytest.fixture(scope="session")
def file_server():
    """A local HTTP server for remote-URL uploads."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=FIXTURES)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
