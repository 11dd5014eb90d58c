"""Layers built by the Python SDK's `overlay` / `underlay` options and the
`text` method, fetched from Nubo."""
import base64
import os
import io

import cloudinary.api as api
import cloudinary.uploader as up
import cloudinary.utils as u
from PIL import Image

from conftest import fixture
from test_delivery import get


def image(body):
    return Image.open(io.BytesIO(body)).convert("RGBA")


def red_share(img, box):
    """Fraction of strongly red pixels in a box of the image."""
    raw = img.crop(box).tobytes()
    px = [raw[i:i + 4] for i in range(0, len(raw), 4)]
    return sum(1 for r, g, b, _ in px if r > 200 and g < 70 and b < 70) / len(px)


def setup_module():
    up.upload(fixture("faces/2008_002506.jpg"), public_id="py/layers/base", overwrite=True)
    red = Image.new("RGB", (40, 20), (255, 0, 0))
    buf = io.BytesIO()
    red.save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    up.upload("data:image/png;base64," + data, public_id="py/layers/logo", overwrite=True)


def test_image_overlays_and_underlays_from_sdk_options():
    url = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 300, "crop": "scale"},
        {"overlay": "py:layers:logo", "gravity": "north_east", "x": 5, "y": 5},
    ])[0]
    assert "/g_north_east,l_py:layers:logo,x_5,y_5/" in url
    status, _, body = get(url)
    assert status == 200
    img = image(body)
    assert img.size == (300, 225)
    assert red_share(img, (255, 5, 295, 25)) > 0.95
    assert red_share(img, (0, 100, 100, 200)) < 0.05
    # The dict form, relative sizing and layer_apply.
    grouped = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 300, "crop": "scale"},
        {"overlay": {"public_id": "py/layers/logo"}},
        {"width": 0.5, "crop": "scale", "flags": "relative"},
        {"flags": "layer_apply", "gravity": "south"},
    ])[0]
    assert "/l_py:layers:logo/c_scale,fl_relative,w_0.5/fl_layer_apply,g_south/" in grouped
    status, _, body = get(grouped)
    img = image(body)
    assert status == 200 and red_share(img, (80, 160, 220, 224)) > 0.95
    under = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 100, "crop": "scale", "border": "10px_solid_rgb:00000000"},
        {"underlay": "py:layers:logo", "width": 1.0, "height": 1.0, "crop": "scale", "flags": "relative"},
    ])[0]
    status, _, body = get(under)
    assert status == 200 and red_share(image(body), (0, 0, 8, 8)) > 0.95


def test_text_overlays_escape_commas_and_slashes():
    url = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 400, "crop": "scale"},
        {"overlay": {"font_family": "Roboto", "font_size": 32, "font_weight": "bold",
                     "text": "50% off, today/only"},
         "color": "red", "gravity": "north_west", "x": 10, "y": 10},
    ])[0]
    assert "l_text:Roboto_32_bold:50%25%20off%252C%20today%252Fonly" in url
    status, headers, body = get(url)
    assert status == 200, headers.get("X-Cld-Error")
    img = image(body)
    assert red_share(img, (10, 10, 250, 45)) > 0.1
    # Wrapping with c_fit keeps the text inside the width.
    wrapped = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 400, "crop": "scale"},
        {"overlay": {"font_family": "Arial", "font_size": 20, "text": "one two three four five six seven"},
         "width": 100, "crop": "fit", "color": "red", "gravity": "north_west"},
    ])[0]
    img = image(get(wrapped)[2])
    assert red_share(img, (0, 0, 100, 80)) > 0.05
    assert red_share(img, (105, 0, 400, 80)) == 0


def test_text_method_styles_reused_by_layers():
    r = up.text("Sale", public_id="py_sale_style", font_family="Open Sans", font_size=36,
                font_weight="bold", font_color="#0000ff", background="white")
    assert r["type"] == "text" and r["format"] == "png" and r["width"] > 50
    status, _, body = get(r["secure_url"])
    img = image(body)
    assert status == 200 and img.size == (r["width"], r["height"])
    assert img.getpixel((0, 0))[:3] == (255, 255, 255)
    url = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 300, "crop": "scale"},
        {"overlay": {"resource_type": "text", "public_id": "py_sale_style", "text": "Half price"},
         "color": "red", "gravity": "south"},
    ])[0]
    assert "/co_red,g_south,l_text:py_sale_style:Half%20price/" in url
    status, _, body = get(url)
    assert status == 200 and red_share(image(body), (0, 150, 300, 225)) > 0.02


def test_fetch_layers_and_named_transformations(file_server):
    url = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 300, "crop": "scale"},
        {"overlay": "fetch:%s/alpha.png" % file_server, "gravity": "north_west"},
    ])[0]
    assert "/g_north_west,l_fetch:" in url
    status, headers, _ = get(url)
    assert status == 200, headers.get("X-Cld-Error")
    api.create_transformation("py_watermark", "c_scale,w_300/g_south_east,l_py:layers:logo,x_4,y_4")
    named = u.cloudinary_url("py/layers/base", transformation="py_watermark", format="png")[0]
    assert "/t_py_watermark/" in named
    status, _, body = get(named)
    img = image(body)
    assert status == 200 and red_share(img, (256, 201, 296, 221)) > 0.95
    api.delete_transformation("py_watermark")


def test_layer_errors_come_back_in_x_cld_error():
    url = u.cloudinary_url("py/layers/base", overlay="py:layers:nothing", format="png")[0]
    status, headers, _ = get(url)
    assert status == 400 and headers["X-Cld-Error"] == "Layer image py/layers/nothing not found"


def test_displacement_maps_and_anti_removal_from_sdk_options():
    # A map that is all red 0: every pixel under it comes from 6 px left.
    red0 = Image.new("RGB", (300, 225), (0, 128, 0))
    buf = io.BytesIO()
    red0.save(buf, "PNG")
    up.upload("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
              public_id="py/layers/map", overwrite=True)
    base = u.cloudinary_url("py/layers/base", format="png", width=300, crop="scale")[0]
    url = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 300, "crop": "scale"},
        {"overlay": "py:layers:map"},
        {"flags": "layer_apply", "effect": "displace", "x": 6},
    ])[0]
    assert "/l_py:layers:map/e_displace,fl_layer_apply,x_6/" in url
    status, _, body = get(url)
    plain = image(get(base)[2])
    moved = image(body)
    assert status == 200 and moved.size == plain.size == (300, 225)
    assert moved.getpixel((100, 100)) == plain.getpixel((94, 100))
    mark = u.cloudinary_url("py/layers/base", format="png", transformation=[
        {"width": 300, "crop": "scale"},
        {"overlay": "py:layers:logo", "effect": "anti_removal:70", "gravity": "north_east"},
    ])[0]
    assert "e_anti_removal:70" in mark
    status, _, body = get(mark)
    assert status == 200 and image(body).size == (300, 225)


def test_text_layers_with_variables_from_sdk_options():
    def png(*transformation):
        url = u.cloudinary_url("py/layers/base", format="png",
                               transformation=[{"width": 300, "crop": "scale"}] + list(transformation))[0]
        # The SDK leaves the space of a quoted value; a browser sends %20.
        status, headers, body = get(url.replace(" ", "%20"))
        assert status == 200, headers.get("X-Cld-Error")
        return url, body
    url, via_var = png({"variables": [["$label", "!Sale now!"]]},
                       {"overlay": {"font_family": "Arial", "font_size": 40, "text": "$(label)"}})
    assert "/$label_!Sale now!/l_text:Arial_40:$(label)/" in url
    written = png({"overlay": {"font_family": "Arial", "font_size": 40, "text": "Sale now"}})[1]
    assert image(via_var).tobytes() == image(written).tobytes()


def test_custom_fonts_uploaded_as_raw_assets():
    font = os.path.join(os.path.dirname(__file__), "../../../crates/nubo-engine/fonts/Roboto-Bold.ttf")
    r = up.upload(font, public_id="py/fonts/Brand-Bold.ttf", resource_type="raw", overwrite=True)
    assert r["resource_type"] == "raw"

    def png(overlay):
        url = u.cloudinary_url("py/layers/base", format="png", transformation=[
            {"width": 300, "crop": "scale"}, {"overlay": overlay}])[0]
        status, headers, body = get(url)
        assert status == 200, headers.get("X-Cld-Error")
        return url, image(body)
    url, custom = png({"font_family": "py:fonts:Brand-Bold.ttf", "font_size": 40, "text": "Hi"})
    assert "/l_text:py:fonts:Brand-Bold.ttf_40:Hi/" in url
    bundled = png({"font_family": "Roboto", "font_size": 40, "font_weight": "bold", "text": "Hi"})[1]
    assert custom.tobytes() == bundled.tobytes()
