"""Transformation URLs built by the official Python SDK, fetched from Nubo."""
import io
import re
import urllib.error
import urllib.request

import cloudinary
import cloudinary.api as api
import cloudinary.uploader as up
import cloudinary.utils as u
from PIL import Image

from conftest import fixture
from test_admin import rand


def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def size(body):
    return Image.open(io.BytesIO(body)).size


def photo(public_id):
    return up.upload(fixture("photo.jpg"), public_id=public_id, overwrite=True)


def test_cloudinary_url_renders_then_serves_from_cache():
    r = photo("py/deliver")
    url, _ = u.cloudinary_url(
        r["public_id"], width=20, height=10, crop="fill", format="png", version=r["version"]
    )
    assert "/c_fill,h_10,w_20/v%d/py/deliver.png" % r["version"] in url
    status, headers, body = get(url)
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert size(body) == (20, 10)
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    status, again, body2 = get(url)
    assert (status, body2, again["ETag"]) == (200, body, headers["ETag"])
    # The second answer comes from the in-memory delivery cache, whose
    # preformatted headers must match the first answer's.
    assert again["Last-Modified"] == headers["Last-Modified"]
    assert again["Content-Length"] == str(len(body)) == headers["Content-Length"]


def test_chained_transformations_and_image_tags():
    photo("py/chain")
    img = cloudinary.CloudinaryImage("py/chain")
    url = img.build_url(
        transformation=[{"width": 30, "crop": "scale"}, {"angle": 90}, {"effect": "grayscale"}],
        format="png",
    )
    assert "/c_scale,w_30/a_90/e_grayscale/" in url
    status, _, body = get(url)
    assert status == 200
    w, h = size(body)
    assert (w, h) in ((22, 30), (23, 30)), (w, h)
    pixels = Image.open(io.BytesIO(body)).convert("RGB").getdata()
    assert all(p[0] == p[1] == p[2] for p in pixels)
    tag = img.image(width=16, crop="scale", format="webp", alt="chain")
    src = re.search(r'src="([^"]+)"', tag).group(1)
    status, headers, body = get(src)
    assert (status, headers["Content-Type"]) == (200, "image/webp")
    assert size(body)[0] == 16


def test_signed_and_named_transformations():
    photo("py/signed")
    url, _ = u.cloudinary_url("py/signed", width=12, crop="scale", format="png", sign_url=True)
    assert "/s--" in url
    status, _, body = get(url)
    assert status == 200 and size(body)[0] == 12
    tampered = re.sub(r"s--[A-Za-z0-9_-]{8}--", "s--AAAAAAAA--", url)
    assert get(tampered)[0] == 401
    named, _ = u.cloudinary_url("py/signed", transformation="sdk_thumb", format="png")
    assert "/t_sdk_thumb/" in named
    status, _, body = get(named)
    assert status == 200 and size(body) == (20, 20)
    status, headers, _ = get(u.cloudinary_url("py/signed", transformation="nope")[0])
    assert status == 400 and headers["X-Cld-Error"] == "Unknown transformation nope"


def test_auto_format_and_quality_follow_accept():
    photo("py/auto")
    url, _ = u.cloudinary_url("py/auto", fetch_format="auto", quality="auto", width=10, crop="scale")
    assert "f_auto" in url and "q_auto" in url
    status, headers, body = get(url, accept="image/webp,*/*")
    assert (status, headers["Content-Type"]) == (200, "image/webp")
    assert "Accept" in headers["Vary"]
    status, headers, _ = get(url, accept="image/avif,image/webp,*/*")
    assert headers["Content-Type"] == "image/avif"
    status, headers, _ = get(url, accept="*/*")
    assert headers["Content-Type"] == "image/jpeg"


def test_eager_on_upload_and_explicit():
    r = up.upload(
        fixture("photo.jpg"),
        public_id="py/eager",
        overwrite=True,
        eager=[{"width": 10, "crop": "scale", "format": "png"}, {"width": 5, "height": 5, "crop": "fill"}],
    )
    assert [e["width"] for e in r["eager"]] == [10, 5]
    assert r["eager"][0]["format"] == "png"
    status, headers, body = get(r["eager"][0]["secure_url"])
    assert status == 200 and size(body)[0] == 10
    e = up.explicit("py/eager", type="upload", eager=[{"width": 7, "crop": "scale"}])
    assert e["eager"][0]["width"] == 7


def test_incoming_transformation_and_conversion():
    r = up.upload(
        fixture("photo.jpg"),
        public_id="py/incoming",
        overwrite=True,
        transformation={"width": 20, "crop": "scale"},
        format="png",
    )
    assert (r["width"], r["format"]) == (20, "png")
    status, headers, body = get(r["secure_url"])
    assert headers["Content-Type"] == "image/png" and size(body)[0] == 20


def test_private_download_url():
    import time

    up.upload(fixture("photo.jpg"), public_id="py/vault", type="private", overwrite=True)
    assert get(u.cloudinary_url("py/vault", type="private", format="jpg")[0])[0] == 401
    url = u.private_download_url(
        "py/vault", "png", type="private", attachment=True, expires_at=int(time.time()) + 600
    )
    assert "/v1_1/demo/image/download?" in url
    status, headers, body = get(url)
    assert (status, headers["Content-Type"]) == (200, "image/png")
    assert headers["Content-Disposition"] == 'attachment; filename="vault.png"'
    assert size(body) == (40, 30)
    status, _, body = get(u.private_download_url("py/vault", "jpg", type="private"))
    with open(fixture("photo.jpg"), "rb") as f:
        assert (status, body) == (200, f.read())
    expired = u.private_download_url("py/vault", "jpg", type="private", expires_at=int(time.time()) - 5)
    assert get(expired)[0] == 401


def test_face_and_auto_gravity_urls_follow_the_faces():
    r = up.upload(fixture("faces/2009_004587.jpg"), public_id="py/faces", overwrite=True, faces=True)
    assert len(r["faces"]) == 2 and all(len(f) == 4 for f in r["faces"])
    url, _ = u.cloudinary_url(r["public_id"], width=120, height=120, crop="thumb", gravity="face",
                              format="png", version=r["version"])
    assert "/c_thumb,g_face,h_120,w_120/" in url
    status, _, body = get(url)
    assert (status, size(body)) == (200, (120, 120))
    img = cloudinary.CloudinaryImage(r["public_id"])
    chained = img.build_url(
        transformation=[{"width": 300, "height": 100, "crop": "fill", "gravity": "auto"},
                        {"effect": "pixelate_faces:10"}],
        format="png")
    assert "/c_fill,g_auto,h_100,w_300/e_pixelate_faces:10/" in chained
    status, _, body = get(chained)
    assert (status, size(body)) == (200, (300, 100))
    # Stored coordinates win over detection, and changing them re-crops.
    bottom = get(u.cloudinary_url(r["public_id"], width=300, height=100, crop="fill", gravity="south",
                                  format="png")[0])[2]
    face_url = u.cloudinary_url(r["public_id"], width=300, height=100, crop="fill", gravity="face",
                                format="png")[0]
    before = get(face_url)[2]
    assert before != bottom
    api.update(r["public_id"], face_coordinates="10,440,50,50")
    assert api.resource(r["public_id"], faces=True)["faces"] == [[10, 440, 50, 50]]
    assert get(face_url)[2] == bottom


def test_conditions_and_variables_built_by_the_sdk():
    r = photo("py/cond")  # 40x30
    img = cloudinary.CloudinaryImage(r["public_id"])
    blocks = img.build_url(transformation=[
        {"if": "width > 30"}, {"width": 10, "crop": "scale"},
        {"if": "else"}, {"width": 20, "crop": "scale"}, {"if": "end"}], format="png")
    assert "/if_w_gt_30/c_scale,w_10/if_else/c_scale,w_20/if_end/" in blocks
    status, _, body = get(blocks)
    assert (status, size(body)) == (200, (10, 8))
    half = img.build_url(transformation=[{"variables": [["$half", "iw / 2"]], "width": "$half",
                                          "crop": "scale"}], format="png")
    assert "$half_iw_div_2,c_scale,w_$half" in half
    assert size(get(half)[2]) == (20, 15)
    inline = u.cloudinary_url(r["public_id"], transformation=[
        {"if": "aspect_ratio < 1", "width": 5, "crop": "scale"}], format="png", width="iw * 0.5 + 2",
        crop="scale")[0]
    assert "/if_ar_lt_1,c_scale,w_5/c_scale,w_iw_mul_0.5_add_2/" in inline
    assert size(get(inline)[2]) == (22, 17)
    status, headers, _ = get(img.build_url(width="$nope", crop="scale", format="png"))
    assert status == 400 and headers["X-Cld-Error"] == "Undefined variable $nope"


def test_conditions_on_tags_context_and_metadata_built_by_the_sdk():
    rating, colors = "rating_" + rand(), "colors_" + rand()
    api.add_metadata_field({"type": "integer", "external_id": rating, "label": "Rating"})
    api.add_metadata_field({"type": "set", "external_id": colors, "label": "Colors",
                            "datasource": {"values": [{"external_id": "red", "value": "Red"},
                                                      {"external_id": "blue", "value": "Blue"}]}})
    try:
        r = up.upload(fixture("photo.jpg"), public_id="py/cond-data", overwrite=True,
                      tags=["sale", "in_stock"], context={"kind": "shoes"},
                      metadata={rating: 4, colors: ["red"]})
        img = cloudinary.CloudinaryImage(r["public_id"])

        def width(*transformation):
            url = img.build_url(transformation=list(transformation), format="png")
            status, headers, body = get(url)
            assert status == 200, headers.get("X-Cld-Error")
            return size(body)[0]

        tags = [{"if": "!sale:in_stock! in tags"}, {"width": 10, "crop": "scale"},
                {"if": "else"}, {"width": 20, "crop": "scale"}, {"if": "end"}]
        assert "/if_!sale:in_stock!_in_tags/" in img.build_url(transformation=tags)
        assert width(*tags) == 10
        ctx = {"if": "ctx:!kind! = !shoes!", "width": 12, "crop": "scale"}
        assert "if_ctx:!kind!_eq_!shoes!" in img.build_url(transformation=[ctx])
        assert width(ctx) == 12
        md = [{"if": "md:!%s! >= 4" % rating}, {"width": 8, "crop": "scale"}, {"if": "end"}]
        assert width(*md) == 8
        in_set = [{"if": "!red!_in_md:!%s!" % colors}, {"width": 6, "crop": "scale"}, {"if": "end"}]
        assert width(*in_set) == 6

        # Editing the data changes what the same URLs deliver.
        api.update(r["public_id"], tags="sale", context="kind=hats", metadata={rating: 2})
        assert width(*tags) == 20
        assert width(ctx) == 40
        assert width(*md) == 40
        assert width(*in_set) == 6
    finally:
        api.delete_metadata_field(rating)
        api.delete_metadata_field(colors)
