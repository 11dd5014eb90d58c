//! Derived files over HTTP: rendering, the cache, single flight, headers,
//! access rules, and transformations at upload.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::harness::*;

fn dims(body: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(body).expect("an image");
    (img.width(), img.height())
}

async fn upload_photo(app: &TestApp, id: &str) -> serde_json::Value {
    app.upload_fixture(id, "photo.jpg", &[]).await
}

#[tokio::test]
async fn first_request_renders_second_is_served_from_the_cache() {
    let app = TestApp::new().await;
    let up = upload_photo(&app, "cat").await;
    let v = up["version"].as_i64().unwrap();
    let blobs_before = app.blob_files();
    let url = format!("/demo/image/upload/c_fill,h_20,w_30/v{v}/cat.png");
    let first = app.get(&url).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers["content-type"], "image/png");
    assert_eq!(dims(&first.body), (30, 20));
    assert_eq!(
        first.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(app.blob_files(), blobs_before + 1);
    // Same parameters in another order: the same derived file.
    let again = app
        .get(&format!("/demo/image/upload/w_30,c_fill,h_20/v{v}/cat.png"))
        .await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["etag"], first.headers["etag"]);
    assert_eq!(app.blob_files(), blobs_before + 1, "no second rendering");

    // Conditional, ranged and HEAD requests work on derived files too.
    let cond = Request::get(&url)
        .header("if-none-match", first.headers["etag"].clone())
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(cond).await.status, StatusCode::NOT_MODIFIED);
    let ranged = Request::get(&url)
        .header("range", "bytes=0-3")
        .body(Body::empty())
        .unwrap();
    let r = app.send(ranged).await;
    assert_eq!(
        (r.status, r.body.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &first.body[..4])
    );
    let head = app
        .send(Request::head(&url).body(Body::empty()).unwrap())
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.headers["content-length"], first.body.len().to_string());
    assert!(head.body.is_empty());
}

/// An AVIF upload is transformed like any other image.
#[tokio::test]
async fn avif_uploads_are_transformed() {
    let app = TestApp::new().await;
    let up = app.upload_fixture("pic", "image.avif", &[]).await;
    assert_eq!(
        (up["format"].as_str(), up["width"].as_i64()),
        (Some("avif"), Some(20))
    );
    let v = up["version"].as_i64().unwrap();
    let r = app
        .get(&format!("/demo/image/upload/w_10/v{v}/pic.png"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(dims(&r.body), (10, 8));
    // A grid AVIF (3x2 tiles) is assembled before the crop.
    let up = app
        .upload_fixture("grid", "avif/photo-grid.avif", &[])
        .await;
    assert_eq!(
        (up["width"].as_i64(), up["height"].as_i64()),
        (Some(300), Some(200))
    );
    let v = up["version"].as_i64().unwrap();
    let r = app
        .get(&format!(
            "/demo/image/upload/c_fill,w_60,h_60/v{v}/grid.png"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(dims(&r.body), (60, 60));
}

#[tokio::test]
async fn concurrent_requests_render_once() {
    let app = TestApp::new().await;
    upload_photo(&app, "busy").await;
    let blobs_before = app.blob_files();
    let url = "/demo/image/upload/c_fit,w_13,e_sepia/v1/busy.webp";
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let router = app.router.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let resp = router
                    .oneshot(Request::get(url).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                (resp.status(), resp.headers()["etag"].clone())
            })
        })
        .collect();
    let mut etags = Vec::new();
    for t in tasks {
        let (status, etag) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        etags.push(etag);
    }
    assert!(etags.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        app.blob_files(),
        blobs_before + 1,
        "one rendering for twelve requests"
    );
}

#[tokio::test]
async fn auto_format_varies_on_accept() {
    let app = TestApp::new().await;
    upload_photo(&app, "auto").await;
    let get = |accept: &'static str| {
        Request::get("/demo/image/upload/f_auto,q_auto,w_16/auto.jpg")
            .header("accept", accept)
            .body(Body::empty())
            .unwrap()
    };
    let webp = app.send(get("image/webp,*/*")).await;
    assert_eq!(webp.headers["content-type"], "image/webp");
    assert_eq!(webp.headers["vary"], "Accept");
    let avif = app.send(get("image/avif,image/webp,*/*")).await;
    assert_eq!(avif.headers["content-type"], "image/avif");
    let plain = app.send(get("*/*")).await;
    assert_eq!(plain.headers["content-type"], "image/jpeg");
    assert_eq!(dims(&plain.body).0, 16);
    let dpr = Request::get("/demo/image/upload/dpr_auto,w_10/auto.jpg")
        .header("sec-ch-dpr", "2")
        .body(Body::empty())
        .unwrap();
    let r = app.send(dpr).await;
    assert_eq!(dims(&r.body).0, 20);
    assert_eq!(r.headers["vary"], "DPR, Sec-CH-DPR");
}

#[tokio::test]
async fn errors_are_400_with_x_cld_error() {
    let app = TestApp::new().await;
    upload_photo(&app, "err").await;
    for (url, msg) in [
        (
            "/demo/image/upload/w_abc/err.jpg",
            "Invalid width in transformation: abc",
        ),
        (
            "/demo/image/upload/t_nope/err.jpg",
            "Unknown transformation nope",
        ),
        (
            "/demo/image/upload/l_video:dog/err.jpg",
            "Layers of video files (l_video:) is not supported by this server",
        ),
        (
            "/demo/image/upload/e_sparkle/err.jpg",
            "Invalid effect in transformation: sparkle",
        ),
        (
            "/demo/image/upload/w_60000,h_60000/err.jpg",
            "Output of 60000x60000 pixels is over the limit of 50000000 pixels",
        ),
    ] {
        let r = app.get(url).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}");
        assert_eq!(r.headers["x-cld-error"], msg, "{url}");
        assert_eq!(r.error_message(), msg);
    }
    let r = app.get("/demo/image/upload/w_10/missing.jpg").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn named_transformations_and_default_images() {
    let app = TestApp::new().await;
    upload_photo(&app, "named").await;
    upload_photo(&app, "fallback").await;
    let demo = nubo_core::CloudName::parse("demo").unwrap();
    app.service
        .put_named_transformation(&demo, "thumb", "c_fill,h_8,w_8/e_grayscale", false)
        .await
        .unwrap();
    let r = app.get("/demo/image/upload/t_thumb/named.png").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(dims(&r.body), (8, 8));
    let img = image::load_from_memory(&r.body).unwrap().to_rgb8();
    assert!(
        img.pixels().all(|p| p[0] == p[1] && p[1] == p[2]),
        "grayscale"
    );
    // Same pixels as the literal chain: one derived file.
    let literal = app
        .get("/demo/image/upload/c_fill,h_8,w_8/e_grayscale/named.png")
        .await;
    assert_eq!(literal.headers["etag"], r.headers["etag"]);
    // d_ delivers the default image when the asset is missing.
    let d = app
        .get("/demo/image/upload/d_fallback.jpg,w_9/nothing-here.jpg")
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(dims(&d.body).0, 9);
}

#[tokio::test]
async fn attachment_flag_and_private_assets() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "image/upload",
            &[("public_id", "secret"), ("type", "private")],
            Some(("p.jpg", &fixture("photo.jpg"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The original needs a signature; derived files do not.
    assert_eq!(
        app.get("/demo/image/private/secret.jpg").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app.get("/demo/image/private/w_10/secret.jpg").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .get("/demo/image/private/fl_attachment:holiday,w_10/secret.jpg")
        .await;
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"holiday.jpg\""
    );
    upload_photo(&app, "pub").await;
    let r = app.get("/demo/image/upload/fl_attachment/pub.jpg").await;
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"pub.jpg\""
    );
    assert_eq!(
        r.body,
        fixture("photo.jpg"),
        "attachment alone serves the original"
    );
}

#[tokio::test]
async fn eager_incoming_and_explicit() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "image/upload",
            &[
                ("public_id", "eager"),
                ("eager", "c_scale,w_10|c_fill,h_5,w_5/png"),
                ("transformation", "c_scale,w_20"),
            ],
            Some(("p.jpg", &fixture("photo.jpg"))),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let body = r.json();
    assert_eq!(
        body["width"], 20,
        "incoming transformation applied before storing"
    );
    let eager = body["eager"].as_array().unwrap();
    assert_eq!(eager.len(), 2);
    assert_eq!(eager[0]["transformation"], "c_scale,w_10");
    assert_eq!(eager[0]["width"], 10);
    assert_eq!(eager[1]["format"], "png");
    assert_eq!(
        (eager[1]["width"].as_i64(), eager[1]["height"].as_i64()),
        (Some(5), Some(5))
    );
    // The eager URL is served without rendering again.
    let blobs = app.blob_files();
    let r = app.get(&path_of(&eager[1]["secure_url"])).await;
    assert_eq!((r.status, dims(&r.body)), (StatusCode::OK, (5, 5)));
    assert_eq!(app.blob_files(), blobs);

    // Conversion on upload stores the converted original.
    let r = app
        .call(
            "image/upload",
            &[("public_id", "conv"), ("format", "png")],
            Some(("p.jpg", &fixture("photo.jpg"))),
        )
        .await;
    assert_eq!(r.json()["format"], "png");

    // explicit renders eager ones, and invalidate drops derived files.
    let r = app
        .call(
            "image/explicit",
            &[("public_id", "eager"), ("type", "upload"), ("eager", "w_7")],
            None,
        )
        .await;
    assert_eq!(r.json()["eager"][0]["width"], 7);
    // Blobs outlive their last reference by the pin window; sweep after it.
    let later = now() + 7200;
    let before = app.blob_files();
    app.call(
        "image/explicit",
        &[
            ("public_id", "eager"),
            ("type", "upload"),
            ("invalidate", "true"),
        ],
        None,
    )
    .await;
    app.service.sweep_blobs(later).await.unwrap();
    assert_eq!(app.blob_files(), before - 3, "three derived files dropped");
    // destroy drops the rest with the original.
    app.get("/demo/image/upload/w_3/eager.jpg").await;
    let before = app.blob_files();
    app.call("image/destroy", &[("public_id", "eager")], None)
        .await;
    app.service.sweep_blobs(later).await.unwrap();
    assert_eq!(app.blob_files(), before - 2);
}

fn signed_query(action: &str, fields: &[(&str, &str)]) -> String {
    let pairs = signed(action, fields, now());
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish()
}

#[tokio::test]
async fn private_download_urls() {
    let app = TestApp::new().await;
    app.call(
        "image/upload",
        &[("public_id", "vault/doc"), ("type", "private")],
        Some(("p.jpg", &fixture("photo.jpg"))),
    )
    .await;
    let future = (now() + 600).to_string();
    let q = signed_query(
        "download",
        &[
            ("public_id", "vault/doc"),
            ("format", "jpg"),
            ("type", "private"),
            ("attachment", "true"),
            ("expires_at", &future),
        ],
    );
    let r = app.get(&format!("/v1_1/demo/image/download?{q}")).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.body, fixture("photo.jpg"));
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"doc.jpg\""
    );
    assert_eq!(r.headers["cache-control"], "private, no-store");
    // Another format converts.
    let q = signed_query(
        "download",
        &[
            ("public_id", "vault/doc"),
            ("format", "png"),
            ("type", "private"),
        ],
    );
    let r = app.get(&format!("/v1_1/demo/image/download?{q}")).await;
    assert_eq!(
        (r.status, r.headers["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/png")
    );
    assert_eq!(dims(&r.body), (40, 30));
    // Expired, tampered and unsigned links are refused.
    let past = (now() - 10).to_string();
    let q = signed_query(
        "download",
        &[
            ("public_id", "vault/doc"),
            ("format", "jpg"),
            ("type", "private"),
            ("expires_at", &past),
        ],
    );
    assert_eq!(
        app.get(&format!("/v1_1/demo/image/download?{q}"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let q = signed_query(
        "download",
        &[
            ("public_id", "vault/doc"),
            ("format", "jpg"),
            ("type", "private"),
        ],
    );
    let tampered = q.replace("vault%2Fdoc", "vault%2Fother");
    assert_eq!(
        app.get(&format!("/v1_1/demo/image/download?{tampered}"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .get("/v1_1/demo/image/download?public_id=vault/doc&type=private")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_delivery_cache_never_serves_what_this_node_replaced() {
    let app = TestApp::new().await;
    upload_photo(&app, "swap").await;
    let url = "/demo/image/upload/w_10/swap.png";
    let before = app.get(url).await;
    assert_eq!(dims(&before.body), (10, 8));
    assert_eq!(
        app.get(url).await.body,
        before.body,
        "served from the cache"
    );
    // Overwrite with a different image: the very next request sees it.
    app.call(
        "image/upload",
        &[("public_id", "swap")],
        Some(("a.png", &fixture("alpha.png"))),
    )
    .await;
    let after = app.get(url).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(dims(&after.body), (10, 8));
    assert_ne!(after.body, before.body);
    app.call("image/destroy", &[("public_id", "swap")], None)
        .await;
    assert_eq!(app.get(url).await.status, StatusCode::NOT_FOUND);
}

/// Conditions on tags, context and metadata: the rendering follows the
/// asset's data, and editing the data never serves the old rendering.
#[tokio::test]
async fn conditions_on_tags_context_and_metadata_follow_edits() {
    let app = TestApp::new().await;
    let up = app
        .upload_fixture(
            "shoe",
            "photo.jpg",
            &[("tags", "sale,in_stock"), ("context", "kind=shoes")],
        )
        .await;
    let v = up["version"].as_i64().unwrap();
    let url = format!(
        "/demo/image/upload/if_!sale:in_stock!_in_tags/c_scale,w_10/if_else/c_scale,w_20/if_end/v{v}/shoe.png"
    );
    let first = app.get(&url).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.error_message());
    assert_eq!(dims(&first.body), (10, 8));
    // The data can change under the same version: never immutable.
    assert_eq!(first.headers["cache-control"], "public, max-age=3600");
    let ctx = format!("/demo/image/upload/if_ctx:!kind!_eq_!shoes!,c_scale,w_12/v{v}/shoe.png");
    assert_eq!(dims(&app.get(&ctx).await.body), (12, 9));

    // Drop a tag and change the context: the same URLs render anew.
    let r = admin(
        &app,
        "POST",
        "resources/image/upload/shoe",
        Some(serde_json::json!({"tags": "sale", "context": "kind=hats"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    let blobs = app.blob_files();
    assert_eq!(dims(&app.get(&url).await.body), (20, 15));
    assert_eq!(dims(&app.get(&ctx).await.body), (40, 30));
    // Two new renderings, and the two for the old data are gone.
    let derived = admin(&app, "GET", "resources/image/upload/shoe", None).await;
    let listed = derived.json()["derived"].as_array().unwrap().len();
    assert_eq!(listed, 2, "{}", derived.json());
    // Served from the cache the second time.
    let blobs_now = app.blob_files();
    assert_eq!(dims(&app.get(&url).await.body), (20, 15));
    assert_eq!(app.blob_files(), blobs_now);
    // (Their blobs, written within the hour, are left to the blob sweep.)
    assert_eq!(blobs_now, blobs + 2);

    // A context value is text for a text layer: the same pixels as the
    // text written out, and an edit of the context draws the new text.
    let label = |text: &str| format!("/demo/image/upload/{text}/v{v}/shoe.png");
    let via_ctx = app
        .get(&label("$label_ctx:!kind!/l_text:Arial_12:$(label)"))
        .await;
    assert_eq!(
        via_ctx.status,
        StatusCode::OK,
        "{}",
        via_ctx.error_message()
    );
    let written = app.get(&label("l_text:Arial_12:hats")).await;
    assert_eq!(via_ctx.body, written.body);
    // A condition that cannot be read is a 400 naming the problem.
    let bad = app
        .get(&format!(
            "/demo/image/upload/if_!sale_in_tags/w_10/if_end/v{v}/shoe.png"
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let nan = app
        .get(&format!(
            "/demo/image/upload/if_ctx:!kind!_add_1_gt_0/w_10/if_end/v{v}/shoe.png"
        ))
        .await;
    assert_eq!(nan.status, StatusCode::BAD_REQUEST);
    // An incoming transformation reads the upload's own tags.
    let t = "if_!sale!_in_tags/c_scale,w_10/if_end";
    let tagged = app
        .upload_fixture(
            "in1",
            "photo.jpg",
            &[("tags", "sale"), ("transformation", t)],
        )
        .await;
    assert_eq!(
        (&tagged["width"], &tagged["height"]),
        (&10.into(), &8.into())
    );
    let plain = app
        .upload_fixture("in2", "photo.jpg", &[("transformation", t)])
        .await;
    assert_eq!(plain["width"], 40);
    assert!(
        nan.headers["x-cld-error"]
            .to_str()
            .unwrap()
            .contains("ctx:!kind! is not a number"),
        "{:?}",
        nan.headers["x-cld-error"]
    );
}
