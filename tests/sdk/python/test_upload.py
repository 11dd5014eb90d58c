"""Upload API and delivery, driven by the official Python SDK, unchanged."""
import io
import os
import re
import time
import urllib.error
import urllib.request

import cloudinary
import cloudinary.exceptions
import cloudinary.uploader as up
import cloudinary.utils as u
import pytest

from conftest import fixture


def read(name):
    with open(fixture(name), "rb") as f:
        return f.read()


def fetch(url):
    with urllib.request.urlopen(url) as resp:
        return resp.status, resp.read()


def fetch_status(url):
    try:
        return fetch(url)[0]
    except urllib.error.HTTPError as e:
        return e.code


def delivered(result, **options):
    """Bytes behind the URL the SDK builds for an upload result."""
    url, _ = u.cloudinary_url(
        result["public_id"],
        resource_type=result["resource_type"],
        type=result["type"],
        format=result.get("format"),
        **options,
    )
    status, body = fetch(url)
    assert status == 200
    return body


def test_upload_a_file_path_and_deliver_it():
    r = up.upload(fixture("photo.jpg"), public_id="py/photo", tags=["a", "b"], context={"alt": "x = y"})
    assert (r["public_id"], r["format"], r["width"], r["height"]) == ("py/photo", "jpg", 40, 30)
    assert r["original_filename"] == "photo"
    assert r["tags"] == ["a", "b"]
    assert r["context"] == {"custom": {"alt": "x = y"}}
    assert u.verify_api_response_signature(r["public_id"], r["version"], r["signature"])
    assert "request_id" in r
    assert delivered(r) == read("photo.jpg")
    # the stored secure_url works as is
    assert fetch(r["secure_url"])[1] == read("photo.jpg")


def test_upload_bytes_stream_and_data_uri():
    r = up.upload(read("alpha.png"))
    assert (r["format"], r["original_filename"]) == ("png", "file")
    assert delivered(r) == read("alpha.png")
    r = up.upload(io.BytesIO(read("anim.gif")))
    assert (r["format"], r["pages"]) == ("gif", 3)
    import base64

    uri = "data:image/png;base64," + base64.b64encode(read("alpha.png")).decode()
    r = up.upload(uri, public_id="py/from_data_uri")
    assert (r["width"], r["height"]) == (16, 12)
    assert delivered(r) == read("alpha.png")


def test_remote_url_upload(file_server):
    r = up.upload(file_server + "/photo.jpg", public_id="py/remote")
    assert r["original_filename"] == "photo"
    assert delivered(r) == read("photo.jpg")


def test_remote_url_to_a_private_address_is_refused_by_default(file_server):
    strict = os.environ["NUBO_STRICT_PREFIX"]
    with pytest.raises(cloudinary.exceptions.BadRequest, match="not allowed"):
        up.upload(file_server + "/photo.jpg", upload_prefix=strict)


def test_raw_and_auto():
    r = up.upload(fixture("notes.txt"), resource_type="raw", public_id="docs/hello.txt")
    assert (r["resource_type"], r["public_id"]) == ("raw", "docs/hello.txt")
    assert "format" not in r
    assert fetch(u.cloudinary_url("docs/hello.txt", resource_type="raw")[0])[1] == read("notes.txt")
    assert up.upload(fixture("alpha.png"), resource_type="auto")["resource_type"] == "image"
    auto_raw = up.upload(fixture("notes.txt"), resource_type="auto")
    assert auto_raw["resource_type"] == "raw" and auto_raw["public_id"].endswith(".txt")
    v = up.upload(fixture("clip.mp4"), resource_type="auto")
    assert (v["resource_type"], v["format"], v["width"], v["height"]) == ("video", "mp4", 64, 48)
    assert abs(v["duration"] - 2.0) < 0.1
    assert delivered(v) == read("clip.mp4")


def test_video_upload():
    v = up.upload(fixture("clip.mov"), resource_type="video", public_id="py/clip")
    assert (v["format"], v["video"]["codec"]) == ("mov", "avc1")
    assert delivered(v) == read("clip.mov")


def test_folders_and_filenames():
    r = up.upload(fixture("photo.jpg"), folder="album", use_filename=True)
    assert re.fullmatch(r"album/photo_[a-z0-9]{6}", r["public_id"]), r["public_id"]
    assert (r["folder"], r["asset_folder"], r["display_name"]) == ("album", "album", r["public_id"][6:])
    r = up.upload(fixture("photo.jpg"), folder="album", use_filename=True, unique_filename=False)
    assert r["public_id"] == "album/photo"
    r = up.upload(fixture("photo.jpg"))
    assert re.fullmatch(r"[a-z0-9]{20}", r["public_id"]), r["public_id"]


def test_overwrite_false_returns_the_existing_asset():
    first = up.upload(fixture("alpha.png"), public_id="py/keep")
    second = up.upload(fixture("photo.jpg"), public_id="py/keep", overwrite=False)
    assert second["existing"] is True
    assert (second["etag"], second["version"]) == (first["etag"], first["version"])
    third = up.upload(fixture("photo.jpg"), public_id="py/keep")
    assert third["version"] > first["version"] and third["asset_id"] == first["asset_id"]
    assert delivered(third) == read("photo.jpg")


def test_unsigned_upload_with_preset():
    r = up.unsigned_upload(fixture("alpha.png"), "unsigned_web", public_id="avatar")
    assert r["public_id"] == "web/avatar"
    assert "signature" in r
    with pytest.raises(cloudinary.exceptions.BadRequest, match="whitelisted"):
        up.unsigned_upload(fixture("alpha.png"), "signed_only")
    with pytest.raises(cloudinary.exceptions.BadRequest, match="not found"):
        up.unsigned_upload(fixture("alpha.png"), "no_such_preset")


def test_signed_upload_may_name_a_signed_preset():
    r = up.upload(fixture("alpha.png"), upload_preset="signed_only")
    assert r["tags"] == ["preset_tag"]


def test_stale_timestamp_is_refused(monkeypatch):
    monkeypatch.setattr(cloudinary.utils, "now", lambda: str(int(time.time()) - 7200))
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Stale request"):
        up.upload(fixture("alpha.png"))


def test_bad_signature_is_refused():
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Invalid Signature"):
        up.upload(fixture("alpha.png"), api_secret="not-the-secret")


def test_sha256_signatures():
    r = up.upload(fixture("alpha.png"), signature_algorithm="sha256", public_id="py/sha256")
    assert r["public_id"] == "py/sha256"


def test_garbage_bytes_are_not_an_image():
    with pytest.raises(cloudinary.exceptions.BadRequest, match="Invalid image file"):
        up.upload(b"this is not an image at all")


def test_destroy_rename_tags_and_context():
    pid = up.upload(fixture("alpha.png"), public_id="py/managed", tags="base")["public_id"]
    assert up.add_tag("t1", [pid])["public_ids"] == [pid]
    up.add_tag("t2", [pid])
    assert up.explicit(pid, type="upload")["tags"] == ["base", "t1", "t2"]
    up.remove_tag("t1", [pid])
    up.replace_tag("only", [pid])
    assert up.explicit(pid, type="upload")["tags"] == ["only"]
    up.remove_all_tags([pid])
    assert up.explicit(pid, type="upload")["tags"] == []
    up.add_context({"caption": "a|b", "alt": "c=d"}, [pid])
    assert up.explicit(pid, type="upload")["context"] == {"custom": {"caption": "a|b", "alt": "c=d"}}
    up.remove_all_context([pid])
    assert "context" not in up.explicit(pid, type="upload")

    renamed = up.rename(pid, "py/renamed")
    assert renamed["public_id"] == "py/renamed"
    assert delivered(renamed) == read("alpha.png")
    up.upload(fixture("photo.jpg"), public_id="py/other")
    with pytest.raises(cloudinary.exceptions.BadRequest):
        up.rename("py/renamed", "py/other")
    assert up.rename("py/renamed", "py/other", overwrite=True)["format"] == "png"
    with pytest.raises(cloudinary.exceptions.NotFound, match="Resource not found"):
        up.rename("py/nothing", "py/x")

    assert up.destroy("py/other")["result"] == "ok"
    assert up.destroy("py/other")["result"] == "not found"
    assert fetch_status(u.cloudinary_url("py/other", format="png")[0]) == 404


def test_private_assets_need_signed_urls():
    r = up.upload(fixture("alpha.png"), public_id="py/secret", type="private")
    assert r["type"] == "private"
    signed, _ = u.cloudinary_url("py/secret", type="private", format="png", sign_url=True)
    assert fetch(signed)[1] == read("alpha.png")
    unsigned, _ = u.cloudinary_url("py/secret", type="private", format="png")
    assert fetch_status(unsigned) == 401


def test_return_delete_token():
    r = up.upload(fixture("alpha.png"), public_id="py/tokened", return_delete_token=True)
    assert len(r["delete_token"]) == 40


def test_upload_large_of_a_file_smaller_than_one_chunk():
    # One request carrying Content-Range: bytes 0-15/16 and X-Unique-Upload-Id.
    r = up.upload_large(fixture("notes.txt"), public_id="py/large.txt")
    assert (r["resource_type"], r["bytes"]) == ("raw", os.path.getsize(fixture("notes.txt")))
    assert fetch(u.cloudinary_url("py/large.txt", resource_type="raw")[0])[1] == read("notes.txt")


def test_upload_large_with_tiny_chunks_and_a_generated_id():
    # Four chunks of at most 5 bytes; no public_id, so the server picks one
    # and intermediate answers carry none (Python copies them forward).
    r = up.upload_large(fixture("notes.txt"), chunk_size=5)
    assert r["resource_type"] == "raw" and len(r["public_id"]) >= 20
    assert fetch(u.cloudinary_url(r["public_id"], resource_type="raw")[0])[1] == read("notes.txt")


def test_upload_large_in_chunks_keeps_every_byte(tmp_path):
    import hashlib
    import urllib.request
    # 100 MB of random bytes in 20 chunks of 5 MB (the SDK's chunk size).
    data = os.urandom(100 * 1000 * 1000 + 12345)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    r = up.upload_large(str(path), chunk_size=5 * 1000 * 1000, resource_type="raw",
                        public_id="py/large.bin")
    assert (r["public_id"], r["bytes"]) == ("py/large.bin", len(data))
    url = cloudinary.utils.cloudinary_url("py/large.bin", resource_type="raw")[0]
    with urllib.request.urlopen(url) as resp:
        body = resp.read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()


def test_responsive_breakpoints_from_the_sdk():
    r = up.upload(fixture("faces/2009_004587.jpg"), public_id="py/breakpoints", overwrite=True,
                  responsive_breakpoints={"create_derived": True, "bytes_step": 4000,
                                          "min_width": 80, "max_width": 1000})
    points = r["responsive_breakpoints"][0]["breakpoints"]
    widths = [p["width"] for p in points]
    assert widths[0] == 400 and widths[-1] == 80 and widths == sorted(widths, reverse=True)
    with urllib.request.urlopen(points[1]["secure_url"]) as resp:
        assert len(resp.read()) == points[1]["bytes"]
    with pytest.raises(cloudinary.exceptions.BadRequest):
        up.upload(fixture("photo.jpg"), responsive_breakpoints={"max_images": 0})
