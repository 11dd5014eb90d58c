"""Webhooks as an app receives them: a local endpoint checks every
notification with the SDK's own `verify_notification_signature`."""
import json
import http.server
import threading
import time

import cloudinary
import cloudinary.uploader as up
import cloudinary.utils as u
import pytest

from conftest import fixture


class _Hook(http.server.BaseHTTPRequestHandler):
    received = None  # set per server

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        ts = self.headers["X-Cld-Timestamp"]
        sig = self.headers["X-Cld-Signature"]
        verified = u.verify_notification_signature(body, int(ts), sig, valid_for=7200)
        self.server.raw.append((body, int(ts), sig))
        self.server.received.append((json.loads(body), verified))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def hook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []
    server.raw = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/hook" % server.server_address[1], server.received, server.raw
    server.shutdown()


def wait_for(received, n, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(received) >= n:
            return list(received)
        time.sleep(0.05)
    raise AssertionError("expected %d notifications, got %d" % (n, len(received)))


def test_eager_async_notifies_when_renditions_are_ready(hook):
    url, received, _ = hook
    r = up.upload(fixture("photo.jpg"), public_id="py/hooked",
                  eager=[{"width": 40, "height": 30, "crop": "fill"}, {"width": 20, "format": "png"}],
                  eager_async=True, eager_notification_url=url)
    assert [e["status"] for e in r["eager"]] == ["processing", "processing"]
    (payload, verified), = wait_for(received, 1)
    assert verified, "verify_notification_signature must accept Nubo's signature"
    assert payload["notification_type"] == "eager"
    assert payload["public_id"] == "py/hooked"
    assert payload["batch_id"] == r["eager"][0]["batch_id"]
    first, second = payload["eager"]
    assert (first["width"], first["height"]) == (40, 30)
    assert second["format"] == "png"
    # The rendition is there to be served.
    import urllib.request
    with urllib.request.urlopen(first["secure_url"]) as resp:
        assert resp.status == 200


def test_upload_notification_url_gets_the_upload_result(hook):
    url, received, raw = hook
    r = up.upload(fixture("alpha.png"), public_id="py/notified", notification_url=url)
    (payload, verified), = wait_for(received, 1)
    assert verified
    assert payload["notification_type"] == "upload"
    assert (payload["public_id"], payload["version"]) == ("py/notified", r["version"])
    assert payload["secure_url"] == r["secure_url"]
    # The same notification checked with another secret, or a changed body,
    # fails: the signature covers both.
    body, ts, sig = raw[0]
    assert not u.verify_notification_signature(body + " ", ts, sig, valid_for=7200)
    cloudinary.config(api_secret="not-the-secret")
    assert not u.verify_notification_signature(body, ts, sig, valid_for=7200)


def test_async_upload_answers_pending_and_notifies_the_result(hook):
    url, received, _ = hook
    # `async` is a Python keyword: apps pass it through **options.
    r = up.upload(fixture("photo.jpg"), public_id="py/async", notification_url=url,
                  **{"async": True})
    assert (r["status"], r["public_id"]) == ("pending", "py/async")
    (payload, verified), = wait_for(received, 1)
    assert verified
    assert payload["notification_type"] == "upload"
    assert (payload["public_id"], payload["width"], payload["height"]) == ("py/async", 40, 30)
    import cloudinary.api
    assert cloudinary.api.resource("py/async")["bytes"] == payload["bytes"]
