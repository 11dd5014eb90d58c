"""The Admin API and search, driven by the official Python SDK's
`cloudinary.api` and `cloudinary.Search`, unchanged."""
import os
import random
import string
import urllib.request

import cloudinary
import cloudinary.api as api
import cloudinary.exceptions as ex
import cloudinary.uploader as up
import cloudinary.utils as u
import pytest

from conftest import fixture


def rand(n=8):
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


@pytest.fixture
def folder():
    """A fresh folder per test: the server is shared by the whole suite."""
    return "adm_" + rand()


def upload(public_id, **opts):
    return up.upload(fixture("photo.jpg"), public_id=public_id, overwrite=True, **opts)


def get_status(url):
    try:
        with urllib.request.urlopen(url) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_ping_usage_and_rate_limit_headers():
    r = api.ping()
    assert r["status"] == "ok"
    assert r.rate_limit_allowed == 5000
    assert 0 <= r.rate_limit_remaining < 5000
    assert r.rate_limit_reset_at is not None
    usage = api.usage()
    assert usage["resources"] >= 0
    assert usage["media_limits"]["image_max_px"] == 100000000
    before, stored = usage["objects"]["usage"], usage["storage"]["usage"]
    upload("adm_usage_" + rand())
    after = api.usage()
    assert after["objects"]["usage"] == before + 1
    # photo.jpg is stored once however many public ids name it
    upload("adm_usage_" + rand())
    assert api.usage()["storage"]["usage"] == after["storage"]["usage"] >= stored
    assert "image" in api.resource_types()["resource_types"]


def test_listing_prefix_cursor_direction_and_flags(folder):
    ids = ["%s/p%d" % (folder, i) for i in range(5)]
    for i, pid in enumerate(ids):
        upload(pid, tags=["t%d" % i, folder], context={"n": str(i)})
    page = api.resources(type="upload", prefix=folder + "/", max_results=2, direction="asc")
    assert [r["public_id"] for r in page["resources"]] == ids[:2]
    assert page["next_cursor"] is not None
    assert "tags" not in page["resources"][0]
    seen = [r["public_id"] for r in page["resources"]]
    while "next_cursor" in page:
        page = api.resources(type="upload", prefix=folder + "/", max_results=2,
                             direction="asc", next_cursor=page["next_cursor"])
        seen += [r["public_id"] for r in page["resources"]]
    assert seen == ids
    newest = api.resources(type="upload", prefix=folder + "/", max_results=5,
                           tags=True, context=True)
    assert newest["resources"][0]["public_id"] == ids[-1]
    assert newest["resources"][0]["tags"] == ["t4", folder]
    assert newest["resources"][0]["context"] == {"custom": {"n": "4"}}
    assert newest["resources"][0]["secure_url"].endswith("/%s.jpg" % ids[-1])
    assert api.resources(type="upload", prefix="no_such_prefix/")["resources"] == []


def test_by_tag_context_ids_and_asset_ids(folder):
    a = upload(folder + "/a", tags=[folder, "red"], context={"alt": "A cat"})
    b = upload(folder + "/b", tags=[folder], context={"alt": "dog"})
    by_tag = api.resources_by_tag("red", max_results=10)
    assert [r["public_id"] for r in by_tag["resources"] if r["public_id"].startswith(folder)] == [a["public_id"]]
    tagged = {r["public_id"] for r in api.resources_by_tag(folder)["resources"]}
    assert tagged == {a["public_id"], b["public_id"]}
    ctx = api.resources_by_context("alt", "A cat")["resources"]
    assert [r["public_id"] for r in ctx] == [a["public_id"]]
    has_alt = {r["public_id"] for r in api.resources_by_context("alt", max_results=500)["resources"]}
    assert {a["public_id"], b["public_id"]} <= has_alt
    by_ids = api.resources_by_ids([b["public_id"], a["public_id"], folder + "/missing"])
    assert {r["public_id"] for r in by_ids["resources"]} == {a["public_id"], b["public_id"]}
    by_asset = api.resources_by_asset_ids([a["asset_id"]])
    assert [r["public_id"] for r in by_asset["resources"]] == [a["public_id"]]
    assert api.resources_by_tag("no_such_tag_" + rand())["resources"] == []


def test_resource_details_update_and_derived(folder):
    pid = folder + "/detail"
    r = upload(pid, eager=[{"width": 10, "height": 10, "crop": "fill"}], tags=["x"])
    d = api.resource(pid, faces=True, coordinates=True)
    assert (d["public_id"], d["width"], d["height"], d["bytes"]) == (pid, 40, 30, r["bytes"])
    assert d["tags"] == ["x"]
    assert len(d["derived"]) == 1
    derived = d["derived"][0]
    assert derived["transformation"] == "c_fill,h_10,w_10"
    assert get_status(derived["secure_url"].replace("https://", "http://")) == 200
    assert d["faces"] == []
    by_id = api.resource_by_asset_id(r["asset_id"])
    assert by_id["public_id"] == pid
    updated = api.update(pid, tags="new1,new2", context="caption=hello|alt=x",
                         face_coordinates=[[1, 2, 3, 4]], custom_coordinates=[[5, 6, 7, 8]])
    assert updated["tags"] == ["new1", "new2"]
    assert updated["context"]["custom"] == {"caption": "hello", "alt": "x"}
    again = api.resource(pid, faces=True, coordinates=True)
    assert again["faces"] == [[1, 2, 3, 4]]
    assert again["coordinates"]["custom"] == [[5, 6, 7, 8]]
    assert api.resources_by_tag("new1")["resources"][0]["public_id"] == pid
    with pytest.raises(ex.NotFound) as e:
        api.resource(folder + "/missing")
    assert "Resource not found - %s/missing" % folder in str(e.value)


def test_delete_every_form(folder):
    for name in ["k1", "k2", "p/a", "p/b", "t1"]:
        upload("%s/%s" % (folder, name), tags=[folder + "_t"] if name == "t1" else [],
               eager=[{"width": 5, "crop": "scale"}])
    # keep_original with transformations deletes that derived file only
    kept = api.delete_derived_by_transformation(["%s/k1" % folder], [{"width": 5, "crop": "scale"}])
    assert kept["deleted"]["%s/k1" % folder] == "deleted"
    assert api.resource("%s/k1" % folder)["derived"] == []
    derived_id = api.resource("%s/k2" % folder)["derived"][0]["id"]
    gone = api.delete_derived_resources([derived_id, "no_such_id"])
    assert gone["deleted"] == {derived_id: "deleted", "no_such_id": "not_found"}
    assert api.resource("%s/k2" % folder)["derived"] == []
    r = api.delete_resources(["%s/k1" % folder, "%s/nope" % folder])
    assert r["deleted"] == {"%s/k1" % folder: "deleted", "%s/nope" % folder: "not_found"}
    assert r["deleted_counts"]["%s/k1" % folder] == {"original": 1, "derived": 0}
    assert r["partial"] is False
    r = api.delete_resources_by_prefix("%s/p/" % folder)
    assert set(r["deleted"]) == {"%s/p/a" % folder, "%s/p/b" % folder}
    assert r["deleted_counts"]["%s/p/a" % folder] == {"original": 1, "derived": 1}
    r = api.delete_resources_by_tag(folder + "_t")
    assert list(r["deleted"]) == ["%s/t1" % folder]
    left = api.resources(type="upload", prefix=folder + "/")["resources"]
    assert [x["public_id"] for x in left] == ["%s/k2" % folder]
    asset_id = left[0]["asset_id"]
    r = api.delete_resources_by_asset_ids([asset_id])
    assert r["deleted"] == {asset_id: "deleted"}
    assert api.resources(type="upload", prefix=folder + "/")["resources"] == []
    assert get_status(u.cloudinary_url("%s/k2" % folder, format="jpg")[0]) == 404


def use_server(monkeypatch, env_name):
    """Points the SDK at another server, as an app's CLOUDINARY_URL would."""
    monkeypatch.setenv("CLOUDINARY_URL", os.environ[env_name])
    cloudinary.reset_config()


def test_delete_all_resources(monkeypatch):
    use_server(monkeypatch, "NUBO_ISOLATED_URL")
    for i in range(3):
        upload("all_%d" % i)
    r = api.delete_all_resources()
    assert len(r["deleted"]) == 3 and r["partial"] is False
    assert api.resources()["resources"] == []


def test_tags_listing(folder):
    upload(folder + "/x", tags=[folder + "_b", folder + "_a", folder + "_c"])
    tags = api.tags(prefix=folder, max_results=2)
    assert tags["tags"] == [folder + "_a", folder + "_b"]
    rest = api.tags(prefix=folder, max_results=2, next_cursor=tags["next_cursor"])
    assert rest["tags"] == [folder + "_c"] and "next_cursor" not in rest


def test_named_transformations_crud_and_delivery(folder):
    name = "adm_" + rand()
    assert api.create_transformation(name, {"width": 12, "height": 12, "crop": "fill"})["message"] == "created"
    with pytest.raises(ex.AlreadyExists):
        api.create_transformation(name, "w_5")
    t = api.transformation(name)
    assert t["name"] == "t_" + name and t["named"] is True
    assert t["info"] == [{"crop": "fill", "height": 12, "width": 12}]
    assert "t_" + name in [x["name"] for x in api.transformations(named=True)["transformations"]]
    assert api.update_transformation(name, allowed_for_strict=True)["message"] == "updated"
    assert api.transformation("t_" + name)["allowed_for_strict"] is True
    upload(folder + "/named")
    url = cloudinary.CloudinaryImage(folder + "/named").build_url(transformation=name, format="png")
    with urllib.request.urlopen(url) as resp:
        from PIL import Image
        import io
        assert Image.open(io.BytesIO(resp.read())).size == (12, 12)
    api.update_transformation(name, unsafe_update={"width": 6, "height": 6, "crop": "fill"})
    assert api.transformation(name)["info"] == [{"crop": "fill", "height": 6, "width": 6}]
    assert api.delete_transformation(name)["message"] == "deleted"
    with pytest.raises(ex.NotFound):
        api.transformation(name)


def test_unnamed_transformations_are_listed_and_deleted(folder):
    upload(folder + "/u", eager=[{"width": 7, "crop": "scale"}])
    listed = [x["name"] for x in api.transformations()["transformations"]]
    assert "c_scale,w_7" in listed
    t = api.transformation({"width": 7, "crop": "scale"})
    assert any(d["public_id"] == folder + "/u" for d in t["derived"])
    api.delete_transformation("c_scale,w_7")
    assert api.resource(folder + "/u")["derived"] == []


def test_upload_presets_crud_then_unsigned_upload(folder):
    name = "adm_" + rand()
    created = api.create_upload_preset(name=name, unsigned=True, folder=folder, tags=["from_preset"])
    assert created["message"] == "created" and created["name"] == name
    p = api.upload_preset(name)
    assert p["unsigned"] is True
    assert p["settings"]["folder"] == folder and p["settings"]["tags"] == "from_preset"
    assert name in [x["name"] for x in api.upload_presets()["presets"]]
    r = up.unsigned_upload(fixture("photo.jpg"), name)
    assert r["public_id"].startswith(folder + "/") and r["tags"] == ["from_preset"]
    assert api.update_upload_preset(name, unsigned=False)["message"] == "updated"
    assert api.upload_preset(name)["settings"]["folder"] == folder
    with pytest.raises(ex.Error) as e:
        up.unsigned_upload(fixture("photo.jpg"), name)
    assert "whitelisted for unsigned" in str(e.value)
    with pytest.raises(ex.AlreadyExists):
        api.create_upload_preset(name=name)
    generated = api.create_upload_preset(folder="x")["name"]
    assert len(generated) > 0 and api.delete_upload_preset(generated)["message"] == "deleted"
    assert api.delete_upload_preset(name)["message"] == "deleted"
    with pytest.raises(ex.NotFound):
        api.upload_preset(name)


def test_folders(folder):
    upload(folder + "/sub/deep/img")
    assert folder in [f["name"] for f in api.root_folders()["folders"]]
    subs = api.subfolders(folder)
    assert subs["folders"] == [{"name": "sub", "path": folder + "/sub", "external_id": subs["folders"][0]["external_id"]}]
    assert subs["total_count"] == 1
    made = api.create_folder(folder + "/empty one")
    assert made == {"success": True, "path": folder + "/empty one", "name": "empty one",
                    "external_id": made["external_id"]}
    assert [f["name"] for f in api.subfolders(folder)["folders"]] == ["empty one", "sub"]
    with pytest.raises(ex.BadRequest):
        api.delete_folder(folder + "/sub")
    assert api.delete_folder(folder + "/empty one")["deleted"] == [folder + "/empty one"]
    with pytest.raises(ex.NotFound):
        api.subfolders(folder + "/nope")
    moved = api.rename_folder(folder + "/sub", folder + "/renamed")
    assert moved["to"] == {"name": "renamed", "path": folder + "/renamed"}
    assert api.resource(folder + "/renamed/deep/img")["folder"] == folder + "/renamed/deep"
    with pytest.raises(ex.NotFound):
        api.resource(folder + "/sub/deep/img")
    assert [f["path"] for f in api.subfolders(folder + "/renamed")["folders"]] == [folder + "/renamed/deep"]
    upload(folder + "/other/img")
    with pytest.raises(ex.AlreadyExists):
        api.rename_folder(folder + "/other", folder + "/renamed/deep")


def test_search_expressions_sort_aggregate_and_pages(folder):
    upload(folder + "/s1", tags=["kitten", folder])
    up.upload(fixture("alpha.png"), public_id=folder + "/s2", tags=["kitten", folder])
    upload(folder + "/s3", tags=[folder], context={"mood": "calm"})
    s = (cloudinary.Search().expression("folder:%s AND tags:kitten" % folder)
         .sort_by("public_id", "asc").with_field("tags").aggregate("format").max_results(1))
    first = s.execute()
    assert first["total_count"] == 2
    assert [r["public_id"] for r in first["resources"]] == [folder + "/s1"]
    assert "kitten" in first["resources"][0]["tags"]
    assert first["aggregations"]["format"] == {"jpg": 1, "png": 1}
    second = s.next_cursor(first["next_cursor"]).execute()
    assert [r["public_id"] for r in second["resources"]] == [folder + "/s2"]
    assert "next_cursor" not in second
    calm = cloudinary.Search().expression("context.mood=calm AND folder=%s" % folder).execute()
    assert [r["public_id"] for r in calm["resources"]] == [folder + "/s3"]
    not_png = cloudinary.Search().expression("folder:%s/* -format:png" % folder).execute()
    assert {r["public_id"] for r in not_png["resources"]} == {folder + "/s1", folder + "/s3"}
    recent = cloudinary.Search().expression("folder=%s AND uploaded_at>1d AND bytes<1mb" % folder)
    assert recent.execute()["total_count"] == 3
    with pytest.raises(ex.BadRequest) as e:
        cloudinary.Search().expression("folder:(").execute()
    assert "Invalid search expression" in str(e.value)


def test_admin_errors_carry_sdk_statuses():
    with pytest.raises(ex.BadRequest):
        api.resources(max_results=501)
    secret = cloudinary.config().api_secret
    cloudinary.config(api_secret="wrong")
    with pytest.raises(ex.AuthorizationRequired) as e:
        api.ping()
    assert "Invalid api_key" in str(e.value)
    cloudinary.config(api_secret=secret)
    with pytest.raises(ex.NotFound):
        api.upload_preset("no_such_preset")


def test_rate_limit_is_420(monkeypatch):
    use_server(monkeypatch, "NUBO_LIMITED_URL")
    for _ in range(3):
        api.ping()
    with pytest.raises(ex.RateLimited) as e:
        api.ping()
    assert "Rate Limit Exceeded" in str(e.value)


def test_structured_metadata_fields_values_and_search(folder):
    sku, n, colors = "sku_" + rand(), "n_" + rand(), "colors_" + rand()
    api.add_metadata_field({"type": "string", "external_id": sku, "label": "SKU",
                            "validation": {"type": "strlen", "min": 2, "max": 10}})
    api.add_metadata_field({"type": "integer", "external_id": n, "label": "N",
                            "mandatory": True, "default_value": 1})
    api.add_metadata_field({"type": "set", "external_id": colors, "label": "Colors",
                            "datasource": {"values": [{"external_id": "r", "value": "Red"},
                                                      {"external_id": "b", "value": "Blue"}]}})
    try:
        with pytest.raises(ex.AlreadyExists):
            api.add_metadata_field({"type": "string", "external_id": sku, "label": "again"})
        ids = [f["external_id"] for f in api.list_metadata_fields()["metadata_fields"]]
        assert [sku, n, colors] == [i for i in ids if i in (sku, n, colors)]
        r = upload(folder + "/m1", metadata={sku: "AB1", colors: ["r", "b"]})
        assert r["metadata"] == {sku: "AB1", colors: ["r", "b"], n: 1}
        with pytest.raises(ex.Error) as e:
            upload(folder + "/m2", metadata={sku: "x"})
        assert "Invalid value for metadata field %s" % sku in str(e.value)
        with pytest.raises(ex.Error):
            upload(folder + "/m2", metadata={"no_such_field": "x"})
        assert api.update(folder + "/m1", metadata={n: 7})["metadata"][n] == 7
        assert up.update_metadata({sku: "ZZ9"}, [folder + "/m1", folder + "/gone"])["public_ids"] == [folder + "/m1"]
        d = api.resource(folder + "/m1")
        assert d["metadata"] == {sku: "ZZ9", colors: ["r", "b"], n: 7}
        e = up.explicit(folder + "/m1", type="upload", metadata={n: 8})
        assert e["metadata"][n] == 8
        api.update(folder + "/m1", metadata={n: 7})
        listed = api.resources(type="upload", prefix=folder + "/", metadata=True)["resources"]
        assert listed[0]["metadata"][sku] == "ZZ9"
        assert "metadata" not in api.resources(type="upload", prefix=folder + "/")["resources"][0]
        found = (cloudinary.Search().expression("metadata.%s>5 AND metadata.%s=ZZ9 AND metadata.%s=b" % (n, sku, colors))
                 .with_field("metadata").execute())
        assert [x["public_id"] for x in found["resources"]] == [folder + "/m1"]
        assert found["resources"][0]["metadata"][n] == 7
        assert cloudinary.Search().expression("metadata.%s<5 AND folder=%s" % (n, folder)).execute()["total_count"] == 0
        ds = api.update_metadata_field_datasource(colors, [{"external_id": "g", "value": "Green"}])
        assert [v["external_id"] for v in ds["values"]] == ["r", "b", "g"]
        ds = api.delete_datasource_entries(colors, ["b"])
        assert [v["state"] for v in ds["values"]] == ["active", "inactive", "active"]
        with pytest.raises(ex.Error):
            up.update_metadata({colors: ["b"]}, [folder + "/m1"])
        api.restore_metadata_field_datasource(colors, ["b"])
        up.update_metadata({colors: ["b", "g"]}, [folder + "/m1"])
        api.update_metadata_field(sku, {"label": "Stock unit"})
        assert api.metadata_field_by_field_id(sku)["label"] == "Stock unit"
        assert api.delete_metadata_field(sku)["message"] == "ok"
        assert sku not in api.resource(folder + "/m1")["metadata"]
        with pytest.raises(ex.NotFound):
            api.metadata_field_by_field_id(sku)
    finally:
        for f in (sku, n, colors):
            try:
                api.delete_metadata_field(f)
            except ex.NotFound:
                pass


def test_details_analyse_the_stored_original(folder):
    r = up.upload(fixture("rotated.jpg"), public_id=folder + "/exif")
    d = api.resource(r["public_id"], colors=True, phash=True, exif=True, image_metadata=True)
    assert d["colors"] and all(c[0].startswith("#") and len(c[0]) == 7 for c in d["colors"])
    assert 99 <= sum(c[1] for c in d["colors"]) <= 100.5 or len(d["colors"]) == 12
    assert d["predominant"]["cloudinary"][0][1] > 0
    assert len(d["phash"]) == 16 and int(d["phash"], 16) >= 0
    assert "Orientation" in d["exif"] and "Orientation" in d["image_metadata"]
    found = cloudinary.Search().expression("public_id=%s" % r["public_id"]).with_field("image_metadata").execute()
    assert found["resources"][0]["image_metadata"]["Orientation"] == d["image_metadata"]["Orientation"]
    again = api.resource(r["public_id"], phash=True)
    assert again["phash"] == d["phash"] and "colors" not in again
    raw = up.upload(fixture("notes.txt"), resource_type="raw", public_id=folder + "/n.txt")
    assert "colors" not in api.resource(raw["public_id"], resource_type="raw", colors=True)


def test_upload_flags_analyse_the_new_asset(folder):
    r = up.upload(fixture("rotated.jpg"), public_id=folder + "/flags", colors=True, phash=True,
                  image_metadata=True, quality_analysis=True)
    assert r["colors"] and len(r["phash"]) == 16 and "Orientation" in r["image_metadata"]
    assert all(0 <= r["quality_analysis"][k] <= 1 for k in ("focus", "contrast", "exposure", "saturation"))
    assert 0 <= r["quality_score"] <= 1
    assert r["phash"] == api.resource(r["public_id"], phash=True)["phash"]
    avif = up.upload(fixture("image.avif"), public_id=folder + "/avif", colors=True)
    assert avif["format"] == "avif" and avif["colors"]
