//! Upload API through the router: success shapes, auth modes and error paths.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use nubo_core::{CloudName, Limits};

use crate::harness::*;

#[tokio::test]
async fn signed_upload_returns_the_cloudinary_shape() {
    let app = TestApp::new().await;
    let photo = fixture("photo.jpg");
    let r = app
        .call(
            "image/upload",
            &[
                ("public_id", "f1/photo"),
                ("tags", "a,b"),
                ("context", "alt=x \\= y"),
            ],
            Some(("/home/u/photo.jpg", &photo)),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let j = r.json();
    assert_eq!(j["public_id"], "f1/photo");
    assert_eq!(
        (j["width"].as_i64(), j["height"].as_i64()),
        (Some(40), Some(30))
    );
    assert_eq!(j["format"], "jpg");
    assert_eq!(j["resource_type"], "image");
    assert_eq!(j["type"], "upload");
    assert_eq!(j["bytes"].as_u64(), Some(photo.len() as u64));
    assert_eq!(j["etag"].as_str().unwrap().len(), 32);
    assert_eq!(j["asset_id"].as_str().unwrap().len(), 32);
    assert_eq!(j["version_id"].as_str().unwrap().len(), 32);
    assert_eq!(j["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(j["context"]["custom"]["alt"], "x = y");
    assert_eq!(j["original_filename"], "photo");
    assert_eq!(j["folder"], "f1");
    assert_eq!(j["pages"], 1);
    assert!(j["created_at"].as_str().unwrap().ends_with('Z'));
    let version = j["version"].as_i64().unwrap();
    assert_eq!(
        j["url"],
        format!("http://media.test/demo/image/upload/v{version}/f1/photo.jpg")
    );
    let expected = nubo_service::signing::response_signature(
        "f1/photo",
        version,
        SECRET,
        nubo_service::signing::SignatureAlgorithm::Sha1,
    );
    assert_eq!(j["signature"], expected);
    assert!(r.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn signature_failures_are_401_with_cloudinary_messages() {
    let app = TestApp::new().await;
    let png = fixture("alpha.png");
    let mut fields = signed("upload", &[("public_id", "x")], now());
    fields[0].1 = "tampered".into();
    let r = app
        .post_form("/v1_1/demo/image/upload", &fields, Some(("a.png", &png)))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.error_message().starts_with("Invalid Signature "),
        "{}",
        r.error_message()
    );

    let stale = signed("upload", &[], now() - 3601);
    let r = app
        .post_form("/v1_1/demo/image/upload", &stale, Some(("a.png", &png)))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.error_message()
            .starts_with("Stale request - reported time is "),
        "{}",
        r.error_message()
    );

    let mut wrong_key = signed("upload", &[], now());
    wrong_key.last_mut().unwrap().1 = "999".into();
    let r = app
        .post_form("/v1_1/demo/image/upload", &wrong_key, Some(("a.png", &png)))
        .await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::UNAUTHORIZED, "Invalid api_key 999")
    );

    let r = app
        .post_form(
            "/v1_1/nosuchcloud/image/upload",
            &signed("upload", &[], now()),
            Some(("a.png", &png)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.blob_files(), 0, "refused uploads store nothing");
}

#[tokio::test]
async fn sha256_signatures_are_accepted() {
    let app = TestApp::new().await;
    let ts = now().to_string();
    let to_sign = format!("public_id=s256&timestamp={ts}");
    let sig = nubo_service::signing::sign_hex(
        &to_sign,
        SECRET,
        nubo_service::signing::SignatureAlgorithm::Sha256,
    );
    let fields: Vec<(String, String)> = [
        ("public_id", "s256"),
        ("timestamp", &ts),
        ("signature", &sig),
        ("api_key", KEY),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = app
        .post_form(
            "/v1_1/demo/image/upload",
            &fields,
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
}

#[tokio::test]
async fn unsigned_uploads_need_an_unsigned_preset() {
    let app = TestApp::new().await;
    let demo = CloudName::parse("demo").unwrap();
    let png = fixture("alpha.png");
    let unsigned = |preset: &str| {
        vec![
            ("upload_preset".to_string(), preset.to_string()),
            ("public_id".into(), "mine".into()),
            ("overwrite".into(), "1".into()),
        ]
    };

    let r = app
        .post_form("/v1_1/demo/image/upload", &[], Some(("a.png", &png)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.error_message(),
        "Upload preset must be specified when using unsigned upload"
    );

    let r = app
        .post_form(
            "/v1_1/demo/image/upload",
            &unsigned("nope"),
            Some(("a.png", &png)),
        )
        .await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::BAD_REQUEST, "Upload preset not found")
    );

    app.service
        .put_preset(&demo, "signed_only", false, Default::default())
        .await
        .unwrap();
    let r = app
        .post_form(
            "/v1_1/demo/image/upload",
            &unsigned("signed_only"),
            Some(("a.png", &png)),
        )
        .await;
    assert_eq!(
        r.error_message(),
        "Upload preset must be whitelisted for unsigned uploads"
    );

    let settings = [
        ("folder".to_string(), "web".to_string()),
        ("tags".to_string(), "from_preset".to_string()),
        ("type".to_string(), "private".to_string()),
    ];
    app.service
        .put_preset(&demo, "web", true, settings.into())
        .await
        .unwrap();
    let r = app
        .post_form(
            "/v1_1/demo/image/upload",
            &unsigned("web"),
            Some(("a.png", &png)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    let j = r.json();
    assert_eq!(j["public_id"], "web/mine");
    assert_eq!(j["tags"], serde_json::json!(["from_preset"]));
    assert_eq!(
        j["type"], "private",
        "unsigned requests cannot override the preset's type"
    );
    // Unsigned uploads never overwrite, even when asked to.
    let again = app
        .post_form(
            "/v1_1/demo/image/upload",
            &unsigned("web"),
            Some(("b.png", &fixture("photo.jpg"))),
        )
        .await;
    assert_eq!(again.json()["existing"], true);
    assert_eq!(again.json()["version"], j["version"]);
}

#[tokio::test]
async fn bearer_tokens_replace_signatures_until_revoked() {
    let app = TestApp::new().await;
    let demo = CloudName::parse("demo").unwrap();
    let (record, token) = app
        .service
        .create_token(&demo, "ci", Some(3600))
        .await
        .unwrap();
    let png = fixture("alpha.png");
    let upload = |token: String| {
        let (ct, body) = multipart(&[("public_id".into(), "tok".into())], Some(("a.png", &png)));
        Request::post("/v1_1/demo/image/upload")
            .header("content-type", ct)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body))
            .unwrap()
    };
    let r = app.send(upload(token.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    assert_eq!(r.json()["public_id"], "tok");
    assert_eq!(
        app.send(upload("nubo_wrong".into())).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.service.revoke_token(&demo, &record.id).await.unwrap();
    assert_eq!(
        app.send(upload(token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn content_decides_the_type_never_the_name() {
    let app = TestApp::new().await;
    // garbage named .jpg is not an image
    let r = app
        .call(
            "image/upload",
            &[],
            Some(("fake.jpg", b"definitely not a jpeg")),
        )
        .await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::BAD_REQUEST, "Invalid image file")
    );
    // a truncated JPEG is an invalid image too
    let r = app
        .call(
            "image/upload",
            &[],
            Some(("cut.jpg", &fixture("photo.jpg")[..20])),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.blob_files(), 0);
    assert_eq!(
        app.spool_files(),
        0,
        "rejected uploads leave no staging files"
    );

    // auto: a PNG named .txt is an image; text is raw; an MP4 is a video
    let r = app
        .call("auto/upload", &[], Some(("x.txt", &fixture("alpha.png"))))
        .await;
    assert_eq!(
        (
            r.json()["resource_type"].as_str(),
            r.json()["format"].as_str()
        ),
        (Some("image"), Some("png"))
    );
    let r = app
        .call(
            "auto/upload",
            &[("use_filename", "1"), ("unique_filename", "0")],
            Some(("notes.txt", &fixture("notes.txt"))),
        )
        .await;
    assert_eq!(r.json()["resource_type"], "raw");
    assert_eq!(r.json()["public_id"], "notes.txt");
    assert!(r.json().get("format").is_none() && r.json().get("width").is_none());
    let r = app
        .call("auto/upload", &[], Some(("clip", &fixture("clip.webm"))))
        .await;
    let j = r.json();
    assert_eq!(
        (j["resource_type"].as_str(), j["format"].as_str()),
        (Some("video"), Some("webm"))
    );
    assert_eq!(
        (j["width"].as_i64(), j["height"].as_i64()),
        (Some(64), Some(48))
    );
    assert!((j["duration"].as_f64().unwrap() - 2.0).abs() < 0.1);
    // animated GIF reports its frames as pages; EXIF orientation is applied to the size
    let r = app
        .call("image/upload", &[], Some(("a.gif", &fixture("anim.gif"))))
        .await;
    assert_eq!(r.json()["pages"], 3);
    let r = app
        .call(
            "image/upload",
            &[],
            Some(("r.jpg", &fixture("rotated.jpg"))),
        )
        .await;
    assert_eq!(
        (r.json()["width"].as_i64(), r.json()["height"].as_i64()),
        (Some(30), Some(40))
    );
    // video upload of a non-video
    let r = app
        .call("video/upload", &[], Some(("a.mp4", &fixture("alpha.png"))))
        .await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::BAD_REQUEST, "Invalid video file")
    );
}

#[tokio::test]
async fn limits_are_enforced_with_clear_messages() {
    let limits = Limits {
        max_image_pixels: 1000,
        max_image_bytes: 2000,
        max_raw_bytes: 10,
        ..Limits::default()
    };
    let app = TestApp::with(limits, false).await;
    let r = app
        .call("image/upload", &[], Some(("p.jpg", &fixture("photo.jpg"))))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.error_message().contains("1200 pixels, the limit is 1000"),
        "{}",
        r.error_message()
    );
    let r = app
        .call("image/upload", &[], Some(("a.gif", &fixture("anim.gif"))))
        .await;
    assert_eq!(
        r.error_message(),
        format!(
            "File size too large. Got {}. Maximum is 2000.",
            fixture("anim.gif").len()
        )
    );
    let r = app
        .call("raw/upload", &[], Some(("n.txt", &fixture("notes.txt"))))
        .await;
    assert!(
        r.error_message().starts_with("File size too large"),
        "{}",
        r.error_message()
    );
    // Larger than any type allows: stopped while streaming in.
    let huge = vec![0u8; 3 * 1024 * 1024];
    let tight = Limits {
        max_image_bytes: 1 << 20,
        max_video_bytes: 1 << 20,
        max_raw_bytes: 1 << 20,
        ..Limits::default()
    };
    let app = TestApp::with(tight, false).await;
    let r = app.call("raw/upload", &[], Some(("big.bin", &huge))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.error_message().contains("File size too large"),
        "{}",
        r.error_message()
    );
    assert_eq!(app.spool_files(), 0);
}

#[tokio::test]
async fn missing_and_malformed_inputs() {
    let app = TestApp::new().await;
    let r = app.call("image/upload", &[], None).await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::BAD_REQUEST, "Missing required parameter - file")
    );
    let r = app
        .call("image/upload", &[("file", "just some text")], None)
        .await;
    assert!(
        r.error_message().starts_with("Invalid file"),
        "{}",
        r.error_message()
    );
    let r = app
        .call("image/upload", &[("file", "ftp://example.com/a.jpg")], None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .call(
            "image/upload",
            &[("public_id", "a?b")],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert!(
        r.error_message().starts_with("Invalid public_id"),
        "{}",
        r.error_message()
    );
    let r = app
        .call(
            "image/upload",
            &[("overwrite", "maybe")],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert!(
        r.error_message().contains("overwrite"),
        "{}",
        r.error_message()
    );
    let r = app
        .call(
            "image/upload",
            &[("eager", "c_fill,w_abc")],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert_eq!(r.error_message(), "Invalid width in transformation: abc");
    let r = app
        .call(
            "image/upload",
            &[("allowed_formats", "jpg,gif")],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert_eq!(r.error_message(), "Image file format png not allowed");
    let r = app
        .call(
            "image/upload",
            &[("type", "fetch")],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let bad = Request::post("/v1_1/demo/image/upload")
        .header("content-type", "multipart/form-data; boundary=x")
        .body(Body::from("garbage"))
        .unwrap();
    assert_eq!(app.send(bad).await.status, StatusCode::BAD_REQUEST);
    let json = Request::post("/v1_1/demo/image/upload")
        .header("content-type", "application/json")
        .body(Body::from("[1,2]"))
        .unwrap();
    assert_eq!(app.send(json).await.status, StatusCode::BAD_REQUEST);
    // Admin API calls need credentials.
    assert_eq!(
        app.get("/v1_1/demo/ping").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn data_uris_in_every_body_encoding() {
    let app = TestApp::new().await;
    use base64::Engine;
    let uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(fixture("alpha.png"))
    );
    let r = app
        .call("image/upload", &[("file", &uri), ("public_id", "d1")], None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    assert_eq!(
        (
            r.json()["width"].as_i64(),
            r.json()["original_filename"].as_str()
        ),
        (Some(16), Some("file"))
    );
    // urlencoded
    let fields = signed("upload", &[("file", &uri), ("public_id", "d2")], now());
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    let req = Request::post("/v1_1/demo/image/upload")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.send(req).await.json()["public_id"], "d2");
    // JSON
    let fields = signed("upload", &[("file", &uri), ("public_id", "d3")], now());
    let obj: serde_json::Map<String, serde_json::Value> =
        fields.into_iter().map(|(k, v)| (k, v.into())).collect();
    let req = Request::post("/v1_1/demo/image/upload")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::Value::Object(obj).to_string()))
        .unwrap();
    assert_eq!(app.send(req).await.json()["public_id"], "d3");
    // query string only
    let fields = signed("upload", &[("file", &uri), ("public_id", "d4")], now());
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    let r = app
        .send(
            Request::post(format!("/v1_1/demo/image/upload?{q}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.json()["public_id"], "d4");
    let r = app
        .call(
            "image/upload",
            &[("file", "data:image/png;base64,@@@")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn remote_urls_to_private_addresses_are_refused_by_default() {
    let app = TestApp::new().await;
    for url in [
        "http://127.0.0.1:9/x.png",
        "http://localhost:9/x.png",
        "http://[::1]:9/x.png",
        "http://169.254.169.254/latest",
    ] {
        let r = app.call("image/upload", &[("file", url)], None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(
            r.error_message().contains("not allowed"),
            "{url}: {}",
            r.error_message()
        );
    }
}

#[tokio::test]
async fn naming_options() {
    let app = TestApp::new().await;
    let png = fixture("alpha.png");
    let r = app
        .call(
            "image/upload",
            &[("use_filename", "1"), ("folder", "pics")],
            Some(("/tmp/my logo.png", &png)),
        )
        .await;
    let id = r.json()["public_id"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("pics/my_logo_") && id.len() == "pics/my_logo_".len() + 6,
        "{id}"
    );
    let r = app.call("image/upload", &[], Some(("x.png", &png))).await;
    assert_eq!(r.json()["public_id"].as_str().unwrap().len(), 20);
    let r = app
        .call(
            "raw/upload",
            &[],
            Some(("report.pdf", b"%PDF-1.4 not really")),
        )
        .await;
    assert!(r.json()["public_id"].as_str().unwrap().ends_with(".pdf"));
    let r = app
        .call(
            "image/upload",
            &[("public_id", "o"), ("return_delete_token", "1")],
            Some(("x.png", &png)),
        )
        .await;
    let first = r.json();
    assert_eq!(first["delete_token"].as_str().unwrap().len(), 40);
    // overwrite=false answers the existing asset unchanged
    let r = app
        .call(
            "image/upload",
            &[("public_id", "o"), ("overwrite", "0")],
            Some(("y.jpg", &fixture("photo.jpg"))),
        )
        .await;
    assert_eq!(r.json()["existing"], true);
    assert_eq!(r.json()["etag"], first["etag"]);
    // overwrite (the default) bumps the version and keeps the asset id
    let r = app
        .call(
            "image/upload",
            &[("public_id", "o")],
            Some(("y.jpg", &fixture("photo.jpg"))),
        )
        .await;
    let j = r.json();
    assert!(j["version"].as_i64() > first["version"].as_i64());
    assert_eq!(j["asset_id"], first["asset_id"]);
    assert_eq!(j["overwritten"], true);
    assert_eq!(j["format"], "jpg");
}

#[tokio::test]
async fn browsers_get_cors_preflights_for_uploads() {
    let app = TestApp::new().await;
    let req = Request::options("/v1_1/demo/image/upload")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "x-unique-upload-id,content-range",
        )
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert!(r.status.is_success());
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    let allowed = r.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        allowed.contains("x-unique-upload-id") && allowed.contains("content-range"),
        "{allowed}"
    );
}

#[tokio::test]
async fn a_body_that_stalls_hits_the_body_timeout() {
    use futures_util::StreamExt;
    let limits = Limits {
        body_timeout: std::time::Duration::from_millis(300),
        ..Limits::default()
    };
    let app = TestApp::with(limits, false).await;
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"--x\r\n"))
    });
    let stalled = first.chain(futures_util::stream::pending());
    let req = Request::post("/v1_1/demo/image/upload")
        .header("content-type", "multipart/form-data; boundary=x")
        .body(Body::from_stream(stalled))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (
            StatusCode::BAD_REQUEST,
            "Request body was not received in time"
        )
    );
    assert_eq!(app.spool_files(), 0);
}

/// A multipart body that sends `fields`, opens a file part, then never ends:
/// only a server that answers before reading the file can respond.
fn stalled_upload(fields: &[(String, String)], headers: &[(&str, &str)]) -> Request<Body> {
    use futures_util::StreamExt;
    let (ct, mut body) = multipart(fields, None);
    body.truncate(body.len() - "--nubo-test-boundary-7d3f--\r\n".len());
    body.extend_from_slice(
        b"--nubo-test-boundary-7d3f\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\nsome bytes",
    );
    let stream =
        futures_util::stream::once(
            async move { Ok::<_, std::io::Error>(bytes::Bytes::from(body)) },
        )
        .chain(futures_util::stream::pending());
    let mut req = Request::post("/v1_1/demo/raw/upload").header("content-type", ct);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::from_stream(stream)).unwrap()
}

#[tokio::test]
async fn refused_uploads_are_answered_before_the_file_is_read() {
    let app = TestApp::new().await;
    let deadline = std::time::Duration::from_secs(20);
    let mut bad_key = signed("upload", &[], now());
    bad_key.last_mut().unwrap().1 = "999".into();
    let stale = signed("upload", &[], now() - 7200);
    for (fields, headers, expected) in [
        (bad_key, vec![], "Invalid api_key 999"),
        (stale, vec![], "Stale request"),
        (
            vec![],
            vec![("authorization", "Bearer nubo_not_a_token")],
            "Invalid token",
        ),
    ] {
        let r = tokio::time::timeout(deadline, app.send(stalled_upload(&fields, &headers)))
            .await
            .unwrap_or_else(|_| panic!("no early answer for {expected}"));
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(
            r.error_message().starts_with(expected),
            "{}",
            r.error_message()
        );
    }
    let unknown_cloud = Request::post("/v1_1/nosuch/image/upload")
        .header("content-type", "multipart/form-data; boundary=x")
        .body(Body::from_stream(futures_util::stream::pending::<
            Result<bytes::Bytes, std::io::Error>,
        >()))
        .unwrap();
    let r = tokio::time::timeout(deadline, app.send(unknown_cloud))
        .await
        .expect("answered before the body");
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.spool_files(), 0);
}

#[tokio::test]
async fn form_posts_with_a_callback_are_redirected_with_the_result() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "image/upload",
            &[
                ("public_id", "cb/pic"),
                ("tags", "a,b"),
                ("callback", "https://app.example/cloudinary_cors.html?x=1"),
            ],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let location = url::Url::parse(r.headers["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/cloudinary_cors.html");
    let q: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(q["x"], "1");
    assert_eq!(q["public_id"], "cb/pic");
    assert_eq!(q["tags"], "a,b");
    assert_eq!(q["format"], "png");
    assert!(q["secure_url"].ends_with("/cb/pic.png"));
    let bad = app
        .call(
            "image/upload",
            &[("callback", "javascript:alert(1)")],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
