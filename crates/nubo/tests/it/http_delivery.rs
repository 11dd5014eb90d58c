//! Delivery of originals: bytes, caching headers, ranges, signatures, errors.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::harness::*;

#[tokio::test]
async fn originals_round_trip_with_caching_headers() {
    let app = TestApp::new().await;
    let photo = fixture("photo.jpg");
    let up = app
        .call(
            "image/upload",
            &[("public_id", "folder/my pic")],
            Some(("p.jpg", &photo)),
        )
        .await
        .json();
    let path = path_of(&up["url"]);
    assert!(path.contains("/folder/my%20pic.jpg"), "{path}");
    let r = app.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, photo);
    assert_eq!(r.headers["content-type"], "image/jpeg");
    assert_eq!(
        r.headers["etag"],
        format!("\"{}\"", up["etag"].as_str().unwrap())
    );
    assert_eq!(
        r.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert!(r.headers.contains_key("last-modified"));

    // Any version number serves the current asset, with a short lifetime;
    // Node's ?_a= analytics suffix is ignored.
    let r = app
        .get("/demo/image/upload/v1/folder/my%20pic.jpg?_a=BAMAROfk0")
        .await;
    assert_eq!((r.status, r.body.len()), (StatusCode::OK, photo.len()));
    assert_eq!(r.headers["cache-control"], "public, max-age=3600");
    // Without a version (not possible for folder ids via the SDK, but valid).
    assert_eq!(
        app.get("/demo/image/upload/folder/my%20pic.jpg")
            .await
            .status,
        StatusCode::OK
    );

    let etag = r.headers["etag"].clone();
    let cond = Request::get(&path)
        .header("if-none-match", etag)
        .body(Body::empty())
        .unwrap();
    let r = app.send(cond).await;
    assert_eq!((r.status, r.body.len()), (StatusCode::NOT_MODIFIED, 0));

    let ranged = Request::get(&path)
        .header("range", "bytes=10-19")
        .body(Body::empty())
        .unwrap();
    let r = app.send(ranged).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, &photo[10..20]);
    assert_eq!(
        r.headers["content-range"],
        format!("bytes 10-19/{}", photo.len())
    );
    let past = Request::get(&path)
        .header("range", "bytes=999999-")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.send(past).await.status,
        StatusCode::RANGE_NOT_SATISFIABLE
    );

    let head = Request::head(&path).body(Body::empty()).unwrap();
    let r = app.send(head).await;
    assert_eq!((r.status, r.body.len()), (StatusCode::OK, 0));
    assert_eq!(r.headers["content-length"], photo.len().to_string());
}

#[tokio::test]
async fn missing_assets_and_transformations_explain_themselves() {
    let app = TestApp::new().await;
    let r = app.get("/demo/image/upload/v1/nothing.jpg").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.headers["x-cld-error"], "Resource not found - nothing.jpg");
    assert_eq!(r.headers["access-control-expose-headers"], "X-Cld-Error");
    assert_eq!(
        app.get("/nocloud/image/upload/a.jpg").await.status,
        StatusCode::NOT_FOUND
    );
    // Delivery paths take GET and HEAD only; other paths do not exist.
    let post = Request::post("/demo/image/upload/v1/nothing.jpg")
        .body(Body::empty())
        .unwrap();
    let r = app.send(post).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers["allow"], "GET, HEAD");
    assert!(r.json()["error"]["message"].is_string());
    for path in ["/", "/demo", "/demo/"] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.json()["error"]["message"].is_string(), "{path}");
    }
    app.call(
        "image/upload",
        &[("public_id", "s")],
        Some(("s.png", &fixture("alpha.png"))),
    )
    .await;
    let r = app.get("/demo/image/upload/c_fill,w_abc/s.png").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.headers["x-cld-error"],
        "Invalid width in transformation: abc"
    );
    let r = app.get("/demo/image/upload/s.exe").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/demo/image/upload/s.png").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn private_and_authenticated_originals_need_signed_urls() {
    use nubo_service::signing::{url_signature, SignatureAlgorithm};
    let app = TestApp::new().await;
    let png = fixture("alpha.png");
    for t in ["private", "authenticated"] {
        let up = app
            .call(
                "image/upload",
                &[("public_id", "secret"), ("type", t)],
                Some(("s.png", &png)),
            )
            .await
            .json();
        assert_eq!(up["type"], t);
        let r = app.get(&format!("/demo/image/{t}/secret.png")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{t}");
        assert!(r.headers.contains_key("x-cld-error"));
        let sig = url_signature("secret.png", SECRET, SignatureAlgorithm::Sha1, false);
        let ok = app
            .get(&format!("/demo/image/{t}/s--{sig}--/v1/secret.png"))
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{t}");
        assert_eq!(ok.body, png);
        assert!(ok.headers["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("private"));
        let bad = app
            .get(&format!("/demo/image/{t}/s--AAAAAAAA--/secret.png"))
            .await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    }
    // A public asset with a wrong signature is refused too.
    app.call(
        "image/upload",
        &[("public_id", "pub")],
        Some(("s.png", &png)),
    )
    .await;
    assert_eq!(
        app.get("/demo/image/upload/s--AAAAAAAA--/pub.png")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn raw_files_keep_their_extension_and_are_not_sniffed() {
    let app = TestApp::new().await;
    let html = b"<html><script>alert(1)</script></html>";
    let up = app
        .call(
            "raw/upload",
            &[("public_id", "docs/page.html")],
            Some(("page.html", html)),
        )
        .await
        .json();
    let r = app.get(&path_of(&up["url"])).await;
    assert_eq!(r.body, html);
    assert_eq!(r.headers["content-type"], "application/octet-stream");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
}
