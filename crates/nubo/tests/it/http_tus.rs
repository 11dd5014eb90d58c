//! tus 1.0 at the edge: version negotiation, creation with a first body,
//! offsets, conflicts, content types, termination.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;

use crate::harness::*;

fn meta(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {}",
                base64::engine::general_purpose::STANDARD.encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn tus(method: &str, path: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header("tus-resumable", "1.0.0")
}

#[tokio::test]
async fn create_with_upload_then_patch_to_the_end() {
    let app = TestApp::new().await;
    let data = fixture("photo.jpg");
    let fields = signed("upload", &[("public_id", "tus/photo")], now());
    let create = tus("POST", "/v1_1/demo/image/tus")
        .header("upload-length", data.len().to_string())
        .header("upload-metadata", meta(&fields))
        .header("content-type", "application/offset+octet-stream")
        .body(Body::from(data[..100].to_vec()))
        .unwrap();
    let r = app.send(create).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.headers["upload-offset"], "100");
    assert_eq!(r.headers["tus-resumable"], "1.0.0");
    let location = r.headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/v1_1/demo/image/tus/"), "{location}");
    // A PATCH at the wrong offset is a conflict; the right one goes on.
    let wrong = tus("PATCH", &location)
        .header("upload-offset", "50")
        .header("content-type", "application/offset+octet-stream")
        .body(Body::from(data[50..].to_vec()))
        .unwrap();
    assert_eq!(app.send(wrong).await.status, StatusCode::CONFLICT);
    let not_octets = tus("PATCH", &location)
        .header("upload-offset", "100")
        .header("content-type", "text/plain")
        .body(Body::from("x"))
        .unwrap();
    assert_eq!(
        app.send(not_octets).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let rest = tus("PATCH", &location)
        .header("upload-offset", "100")
        .header("content-type", "application/offset+octet-stream")
        .body(Body::from(data[100..].to_vec()))
        .unwrap();
    let r = app.send(rest).await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.headers["upload-offset"], data.len().to_string());
    let result = app
        .send(tus("GET", &location).body(Body::empty()).unwrap())
        .await;
    assert_eq!(result.json()["public_id"], "tus/photo");
    assert_eq!(result.json()["width"], 40, "an image, probed as any upload");
    assert_eq!(app.get("/demo/image/upload/tus/photo.jpg").await.body, data);
}

#[tokio::test]
async fn protocol_errors() {
    let app = TestApp::new().await;
    let no_version = Request::post("/v1_1/demo/raw/tus")
        .header("upload-length", "5")
        .body(Body::empty())
        .unwrap();
    let r = app.send(no_version).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.headers["tus-version"], "1.0.0");
    let unsigned = tus("POST", "/v1_1/demo/raw/tus")
        .header("upload-length", "5")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.send(unsigned).await.status,
        StatusCode::BAD_REQUEST,
        "no preset"
    );
    let deferred = tus("POST", "/v1_1/demo/raw/tus")
        .header("upload-defer-length", "1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(deferred).await.status, StatusCode::BAD_REQUEST);
    let fields = signed("upload", &[], now());
    let empty = tus("POST", "/v1_1/demo/raw/tus")
        .header("upload-length", "0")
        .header("upload-metadata", meta(&fields))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(empty).await.status, StatusCode::BAD_REQUEST);
    let unknown = tus(
        "HEAD",
        "/v1_1/demo/raw/tus/0123456789abcdef0123456789abcdef",
    )
    .body(Body::empty())
    .unwrap();
    assert_eq!(app.send(unknown).await.status, StatusCode::NOT_FOUND);
    // Termination.
    let fields = signed("upload", &[], now());
    let made = tus("POST", "/v1_1/demo/raw/tus")
        .header("upload-length", "10")
        .header("upload-metadata", meta(&fields))
        .body(Body::empty())
        .unwrap();
    let r = app.send(made).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let location = r.headers["location"].to_str().unwrap().to_owned();
    let too_much = tus("PATCH", &location)
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(Body::from(vec![0u8; 11]))
        .unwrap();
    assert_eq!(app.send(too_much).await.status, StatusCode::BAD_REQUEST);
    let del = app
        .send(tus("DELETE", &location).body(Body::empty()).unwrap())
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let head = app
        .send(tus("HEAD", &location).body(Body::empty()).unwrap())
        .await;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
}
