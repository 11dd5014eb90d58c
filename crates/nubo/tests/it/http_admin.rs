//! The Admin API's edge: auth, error statuses, body encodings, path
//! decoding, rate-limit headers, and what deletes do to stored bytes.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;

use crate::harness::*;

async fn upload(app: &TestApp, id: &str, extra: &[(&str, &str)]) -> serde_json::Value {
    app.upload_fixture(id, "alpha.png", extra).await
}

#[tokio::test]
async fn admin_calls_need_basic_auth_and_carry_rate_headers() {
    let app = TestApp::new().await;
    let none = app.get("/v1_1/demo/ping").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.error_message(), "Must supply api_key");
    let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:nope"));
    let bad = app
        .send(
            Request::get("/v1_1/demo/ping")
                .header("authorization", format!("Basic {wrong}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let ok = admin(&app, "GET", "ping", None).await;
    assert_eq!(ok.json(), serde_json::json!({ "status": "ok" }));
    assert_eq!(ok.headers["x-featureratelimit-limit"], "5000");
    assert_eq!(ok.headers["x-featureratelimit-remaining"], "4999");
    let reset = ok.headers["x-featureratelimit-reset"].to_str().unwrap();
    assert!(httpdate::parse_http_date(reset).is_ok(), "{reset}");
    let unknown = admin(&app, "GET", "no_such_area", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let later = admin(&app, "GET", "streaming_profiles", None).await;
    assert_eq!(later.status, StatusCode::NOT_FOUND);
    assert!(
        later.error_message().contains("not supported"),
        "{}",
        later.error_message()
    );
}

#[tokio::test]
async fn errors_have_the_statuses_the_sdks_map() {
    let app = TestApp::new().await;
    let r = admin(&app, "GET", "resources/image?max_results=0", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = admin(&app, "GET", "resources/image?next_cursor=garbage", None).await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::BAD_REQUEST, "Invalid next_cursor")
    );
    let r = admin(&app, "GET", "resources/image/upload/nope", None).await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::NOT_FOUND, "Resource not found - nope")
    );
    let create = serde_json::json!({ "name": "p1", "unsigned": true, "folder": "f" });
    assert_eq!(
        admin(&app, "POST", "upload_presets", Some(create.clone()))
            .await
            .status,
        StatusCode::OK
    );
    let dup = admin(&app, "POST", "upload_presets", Some(create)).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad_preset = serde_json::json!({ "name": "p2", "overwrite": "maybe" });
    assert_eq!(
        admin(&app, "POST", "upload_presets", Some(bad_preset))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let bad_t = serde_json::json!({ "name": "t1", "transformation": "w_abc" });
    let r = admin(&app, "POST", "transformations", Some(bad_t)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error_message().contains("abc"), "{}", r.error_message());
    let r = admin(
        &app,
        "POST",
        "resources/search",
        Some(serde_json::json!({ "expression": "tags:a", "with_field": ["image_analysis"] })),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = admin(
        &app,
        "PUT",
        "folders/a",
        Some(serde_json::json!({ "to_folder": "b" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Duplicates are 400 on the Upload API (the Node SDK cannot read 409).
    upload(&app, "taken", &[]).await;
    upload(&app, "other", &[]).await;
    let r = app
        .call(
            "image/rename",
            &[("from_public_id", "other"), ("to_public_id", "taken")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn node_style_paths_and_form_bodies() {
    let app = TestApp::new().await;
    upload(&app, "f1/my pic", &[("tags", "a")]).await;
    // Node encodes '/' inside the public id segment and in resources%2Fsearch.
    let r = admin(&app, "GET", "resources/image/upload/f1%2Fmy%20pic", None).await;
    assert_eq!(r.json()["public_id"], "f1/my pic");
    let form = Request::post("/v1_1/demo/resources/image/upload/f1%2Fmy%20pic")
        .header("authorization", basic())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("tags=x%2Cy&context=alt%3Dhello"))
        .unwrap();
    let r = app.send(form).await;
    assert_eq!(r.json()["tags"], serde_json::json!(["x", "y"]));
    assert_eq!(r.json()["context"]["custom"]["alt"], "hello");
    let search = Request::post("/v1_1/demo/resources%2Fsearch")
        .header("authorization", basic())
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"expression":"tags=x","sort_by":[{"public_id":"asc"}]}"#,
        ))
        .unwrap();
    let r = app.send(search).await;
    assert_eq!(r.json()["total_count"], 1);
    assert_eq!(r.json()["resources"][0]["public_id"], "f1/my pic");
}

#[tokio::test]
async fn deleting_resources_collects_their_bytes() {
    let app = TestApp::new().await;
    upload(&app, "d/a", &[("eager", "c_scale,w_5")]).await;
    upload(&app, "d/b", &[]).await; // same bytes as d/a: one blob for both
    assert_eq!(app.blob_files(), 2, "one original and one derived file");
    let r = admin(
        &app,
        "DELETE",
        "resources/image/upload",
        Some(serde_json::json!({ "prefix": "d/a" })),
    )
    .await;
    assert_eq!(
        r.json()["deleted_counts"]["d/a"],
        serde_json::json!({ "original": 1, "derived": 1 })
    );
    let later = now() + 2 * 3600; // past the pins taken by the uploads
    assert_eq!(
        app.service.sweep_blobs(later).await.unwrap(),
        1,
        "the derived blob"
    );
    assert_eq!(app.blob_files(), 1, "the original is still used by d/b");
    assert_eq!(
        app.get("/demo/image/upload/d/b.png").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/demo/image/upload/d/a.png").await.status,
        StatusCode::NOT_FOUND
    );
    let r = admin(
        &app,
        "DELETE",
        "resources/image/upload",
        Some(serde_json::json!({ "public_ids": ["d/b"], "transformations": null })),
    )
    .await;
    assert_eq!(r.json()["deleted"]["d/b"], "deleted");
    assert_eq!(app.service.sweep_blobs(later).await.unwrap(), 1);
    assert_eq!(app.blob_files(), 0, "the last reference released the bytes");
    let r = admin(
        &app,
        "DELETE",
        "resources/image/upload",
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
