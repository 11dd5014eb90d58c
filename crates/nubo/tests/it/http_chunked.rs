//! Chunked uploads (`upload_large`) through the Upload API: chunks in any
//! order, repeats, Node's `-1` totals, and refusals of inconsistent ones.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::harness::*;

async fn chunk(
    app: &TestApp,
    id: &str,
    range: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> Response {
    let (ct, body) = multipart(&signed("upload", fields, now()), Some(("big.bin", bytes)));
    let req = Request::post("/v1_1/demo/raw/upload")
        .header("content-type", ct)
        .header("content-range", range)
        .header("x-unique-upload-id", id)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn chunks_in_any_order_become_one_asset() {
    let app = TestApp::new().await;
    let data: Vec<u8> = (0..250u32).map(|i| (i * 7 % 251) as u8).collect();
    let fields = [("public_id", "big.bin")];
    // The last chunk first (it carries the total, as Node's does), then a
    // middle one twice, then the first.
    let r = chunk(&app, "up1", "bytes 200-249/250", &data[200..], &fields).await;
    assert_eq!(
        r.json(),
        serde_json::json!({ "done": false, "bytes": 50, "public_id": "big.bin", "resource_type": "raw" })
    );
    for _ in 0..2 {
        let r = chunk(&app, "up1", "bytes 100-199/-1", &data[100..200], &fields).await;
        assert_eq!(r.json()["bytes"], 150, "a repeated chunk counts once");
    }
    let r = chunk(&app, "up1", "bytes 0-99/-1", &data[..100], &fields).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let done = r.json();
    assert_eq!(
        (done["public_id"].as_str(), done["bytes"].as_i64()),
        (Some("big.bin"), Some(250))
    );
    assert!(
        done.get("done").is_none(),
        "the final chunk gets the full upload response"
    );
    assert_eq!(app.get("/demo/raw/upload/big.bin").await.body, data);
    // The session is gone: its id may start a new upload.
    let r = chunk(&app, "up1", "bytes 0-9/20", &data[..10], &fields).await;
    assert_eq!(r.json()["bytes"], 10);
}

#[tokio::test]
async fn inconsistent_chunks_are_refused_and_leave_the_session_usable() {
    let app = TestApp::new().await;
    let data = [9u8; 100];
    let ok = chunk(&app, "s2", "bytes 0-49/100", &data[..50], &[]).await;
    assert_eq!(ok.json()["done"], false);
    for (range, bytes, why) in [
        ("bytes 25-74/100", &data[25..75], "overlap"),
        ("bytes 50-99/120", &data[50..100], "differs"),
        ("bytes 50-99/100", &data[50..90], "Content-Range says 50"),
        ("bytes 99-50/100", &data[..1], "Invalid Content-Range"),
    ] {
        let r = chunk(&app, "s2", range, bytes, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{range}");
        assert!(
            r.error_message().contains(why),
            "{range}: {}",
            r.error_message()
        );
    }
    let last = chunk(&app, "s2", "bytes 50-99/100", &data[50..], &[]).await;
    assert_eq!(
        last.json()["bytes"],
        100,
        "{}",
        String::from_utf8_lossy(&last.body)
    );
    // Unsigned chunks are refused like any unsigned upload without a preset.
    let (ct, body) = multipart(&[], Some(("a.bin", b"ab")));
    let req = Request::post("/v1_1/demo/raw/upload")
        .header("content-type", ct)
        .header("content-range", "bytes 0-1/4")
        .header("x-unique-upload-id", "s3")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::BAD_REQUEST);
}
