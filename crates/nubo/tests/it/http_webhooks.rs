//! Webhooks end to end in process: a receiver on a local port, the job
//! worker of the test app delivering to it, signatures checked as the SDKs
//! check them, retries, SSRF refusal, eager_async and the listing API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use nubo_core::Limits;
use nubo_service::signing::{sign_hex, SignatureAlgorithm};

use crate::harness::*;

/// One notification as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// What `cloudinary.utils.verify_notification_signature` computes.
    pub fn signature_valid(&self, secret: &str) -> bool {
        let ts = self.headers["x-cld-timestamp"].to_str().unwrap();
        let sig = self.headers["x-cld-signature"].to_str().unwrap();
        let fresh = (now() - ts.parse::<i64>().unwrap()).abs() < 7200;
        fresh
            && sign_hex(
                &format!("{}{ts}", self.body),
                secret,
                SignatureAlgorithm::Sha1,
            ) == sig
    }
}

/// A local HTTP receiver that fails its first `fail_first` requests with 503.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    pub hits: Arc<AtomicUsize>,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let hits: Arc<AtomicUsize> = Arc::default();
        let (g, h) = (got.clone(), hits.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (g, h) = (g.clone(), h.clone());
                async move {
                    if h.fetch_add(1, Ordering::SeqCst) < fail_first {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    g.lock().unwrap().push(Received { headers, body });
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, got, hits }
    }

    /// Waits for `n` accepted notifications.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "expected {n} notifications, got {}",
            self.got.lock().unwrap().len()
        );
    }
}

async fn private_ok_app() -> TestApp {
    TestApp::with(Limits::default(), true).await
}

async fn webhooks_listing(app: &TestApp, query: &str) -> serde_json::Value {
    let r = admin(app, "GET", &format!("webhooks{query}"), None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

#[tokio::test]
async fn upload_notification_is_signed_and_carries_the_response() {
    let app = private_ok_app().await;
    let rx = Receiver::start(0).await;
    let up = app
        .upload_fixture(
            "hooked",
            "alpha.png",
            &[
                ("notification_url", &rx.url),
                ("return_delete_token", "true"),
            ],
        )
        .await;
    let got = rx.wait_for(1).await;
    let n = &got[0];
    assert!(n.signature_valid(SECRET), "signature must verify");
    assert!(!n.signature_valid("another-secret"));
    let body = n.json();
    assert_eq!(body["notification_type"], "upload");
    assert_eq!(body["public_id"], "hooked");
    assert_eq!(body["secure_url"], up["secure_url"]);
    assert_eq!(body["version"], up["version"]);
    assert_eq!(body["signature_key"], KEY);
    assert!(
        body.get("delete_token").is_none(),
        "the token is the uploader's"
    );
    assert!(n.headers["x-nubo-notification-id"]
        .to_str()
        .unwrap()
        .starts_with("webhook-"));
    assert_eq!(n.headers["content-type"], "application/json");
}

#[tokio::test]
async fn failed_deliveries_are_retried_and_recorded() {
    let app = private_ok_app().await;
    let rx = Receiver::start(2).await;
    app.upload_fixture("retried", "alpha.png", &[("notification_url", &rx.url)])
        .await;
    let got = rx.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(rx.hits.load(Ordering::SeqCst), 3, "two 503s, then success");
    app.drain_jobs().await;
    let list = webhooks_listing(&app, "").await;
    let w = &list["webhooks"][0];
    assert_eq!(w["state"], "done");
    assert_eq!(w["attempts"], 3);
    assert_eq!(w["notification_type"], "upload");
    let outcomes: Vec<&str> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["retry", "retry", "done"]);
    assert!(w["history"][0]["detail"].as_str().unwrap().contains("503"));
    // The detail endpoint and state filter agree.
    let id = w["id"].as_str().unwrap();
    let one = webhooks_listing(&app, &format!("/{id}")).await;
    assert_eq!(one["attempts"], 3);
    let dead = webhooks_listing(&app, "?state=dead").await;
    assert_eq!(dead["webhooks"].as_array().unwrap().len(), 0);
    let bad = admin(&app, "GET", "webhooks?state=lost", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    // The default app blocks private and loopback addresses.
    let app = TestApp::new().await;
    let rx = Receiver::start(0).await;
    app.upload_fixture("ssrf", "alpha.png", &[("notification_url", &rx.url)])
        .await;
    app.drain_jobs().await;
    assert_eq!(
        rx.hits.load(Ordering::SeqCst),
        0,
        "nothing reached the receiver"
    );
    let list = webhooks_listing(&app, "?state=dead").await;
    let w = &list["webhooks"][0];
    assert_eq!(w["attempts"], 1, "a refused address is not retried");
    assert!(
        w["last_error"].as_str().unwrap().contains("not allowed"),
        "{w}"
    );
    // A dead delivery can be put back (and dies again here).
    let id = w["id"].as_str().unwrap();
    let retry = admin(&app, "POST", &format!("webhooks/{id}/retry"), None).await;
    assert_eq!(retry.status, StatusCode::OK);
    app.drain_jobs().await;
    let again = webhooks_listing(&app, &format!("/{id}")).await;
    assert_eq!(again["attempts"], 2);
    assert_eq!(again["state"], "dead");
}

#[tokio::test]
async fn bad_notification_urls_are_refused_before_anything_is_stored() {
    let app = private_ok_app().await;
    let r = app
        .call(
            "image/upload",
            &[
                ("public_id", "never"),
                ("notification_url", "ftp://x.example/h"),
            ],
            Some(("alpha.png", &fixture("alpha.png"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error_message().contains("notification_url"));
    assert_eq!(app.blob_files(), 0);
}

#[tokio::test]
async fn eager_async_renders_in_the_background_then_notifies() {
    let app = private_ok_app().await;
    let rx = Receiver::start(0).await;
    let up = app
        .upload_fixture(
            "later",
            "photo.jpg",
            &[
                ("eager", "c_fill,h_40,w_60|w_30/png"),
                ("eager_async", "true"),
                ("eager_notification_url", &rx.url),
            ],
        )
        .await;
    let eager = up["eager"].as_array().unwrap();
    assert_eq!(eager.len(), 2);
    assert_eq!(eager[0]["status"], "processing");
    let batch = eager[0]["batch_id"].as_str().unwrap().to_owned();
    assert_eq!(batch.len(), 64);
    let got = rx.wait_for(1).await;
    let n = got[0].json();
    assert!(got[0].signature_valid(SECRET));
    assert_eq!(n["notification_type"], "eager");
    assert_eq!(n["public_id"], "later");
    assert_eq!(n["batch_id"], batch.as_str());
    let done = n["eager"].as_array().unwrap();
    assert_eq!(
        (done[0]["width"].as_i64(), done[0]["height"].as_i64()),
        (Some(60), Some(40))
    );
    assert_eq!(done[1]["format"], "png");
    // The rendition is stored: its URL answers from the derived file.
    assert_eq!(
        path_of(&done[0]["secure_url"]),
        path_of(&eager[0]["secure_url"])
    );
    let served = app.get(&path_of(&done[0]["secure_url"])).await;
    assert_eq!(served.status, StatusCode::OK);
    let details = admin(&app, "GET", "resources/image/upload/later", None)
        .await
        .json();
    assert_eq!(details["derived"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn management_calls_notify_with_their_types() {
    let app = private_ok_app().await;
    let rx = Receiver::start(0).await;
    app.upload_fixture("m1", "alpha.png", &[]).await;
    let hook = rx.url.as_str();
    let tags = app
        .call(
            "image/tags",
            &[
                ("public_ids", "m1"),
                ("tag", "red"),
                ("command", "add"),
                ("notification_url", hook),
            ],
            None,
        )
        .await;
    assert_eq!(tags.status, StatusCode::OK);
    let ctx = app
        .call(
            "image/context",
            &[
                ("public_ids", "m1"),
                ("context", "alt=hi"),
                ("command", "add"),
                ("notification_url", hook),
            ],
            None,
        )
        .await;
    assert_eq!(ctx.status, StatusCode::OK);
    let field = admin(
        &app,
        "POST",
        "metadata_fields",
        Some(
            serde_json::from_str(r#"{"external_id":"sku","label":"SKU","type":"string"}"#).unwrap(),
        ),
    )
    .await;
    assert_eq!(
        field.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&field.body)
    );
    let meta = app
        .call(
            "image/metadata",
            &[
                ("public_ids", "m1"),
                ("metadata", "sku=AB1"),
                ("notification_url", hook),
            ],
            None,
        )
        .await;
    assert_eq!(
        meta.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&meta.body)
    );
    let ren = app
        .call(
            "image/rename",
            &[
                ("from_public_id", "m1"),
                ("to_public_id", "m2"),
                ("notification_url", hook),
            ],
            None,
        )
        .await;
    assert_eq!(ren.status, StatusCode::OK);
    let del = app
        .call(
            "image/destroy",
            &[("public_id", "m2"), ("notification_url", hook)],
            None,
        )
        .await;
    assert_eq!(del.json()["result"], "ok");
    let got = rx.wait_for(5).await;
    let mut by_type = std::collections::BTreeMap::new();
    for r in &got {
        assert!(r.signature_valid(SECRET));
        let v = r.json();
        by_type.insert(v["notification_type"].as_str().unwrap().to_owned(), v);
    }
    assert_eq!(
        by_type["resource_tags_changed"]["resources"][0]["added"][0],
        "red"
    );
    assert_eq!(
        by_type["resource_context_changed"]["resources"]["m1"]["added"]["alt"],
        "hi"
    );
    let sku = &by_type["resource_metadata_changed"]["resources"]["m1"]["new_metadata"]["sku"];
    assert_eq!(sku, "AB1");
    assert_eq!(by_type["rename"]["from_public_id"], "m1");
    assert_eq!(by_type["rename"]["to_public_id"], "m2");
    assert_eq!(by_type["delete"]["resources"][0]["public_id"], "m2");
}

#[tokio::test]
async fn the_global_notification_url_applies_when_a_call_names_none() {
    let app = private_ok_app().await;
    let rx = Receiver::start(0).await;
    let demo = nubo_core::CloudName::parse("demo").unwrap();
    assert!(app
        .service
        .set_notification_url(&demo, Some("nope"))
        .await
        .is_err());
    app.service
        .set_notification_url(&demo, Some(&rx.url))
        .await
        .unwrap();
    app.upload_fixture("global", "alpha.png", &[]).await;
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].json()["public_id"], "global");
    app.service.set_notification_url(&demo, None).await.unwrap();
    app.upload_fixture("quiet", "alpha.png", &[]).await;
    app.drain_jobs().await;
    assert_eq!(rx.got.lock().unwrap().len(), 1, "no URL, no notification");
}

#[tokio::test]
async fn overwritten_versions_lose_their_derived_files_in_the_background() {
    let app = private_ok_app().await;
    let up = app.upload_fixture("ow", "photo.jpg", &[]).await;
    let url = path_of(&up["secure_url"]).replace("/upload/", "/upload/w_20/");
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
    app.upload_fixture("ow", "alpha.png", &[("eager", "w_10")])
        .await;
    app.drain_jobs().await;
    let details = admin(&app, "GET", "resources/image/upload/ow", None)
        .await
        .json();
    let derived = details["derived"].as_array().unwrap();
    assert_eq!(
        derived.len(),
        1,
        "only the new version's eager file stays: {derived:?}"
    );
    assert!(derived[0]["transformation"]
        .as_str()
        .unwrap()
        .contains("w_10"));
}

#[tokio::test]
async fn async_uploads_answer_pending_then_notify_the_result() {
    let app = private_ok_app().await;
    let rx = Receiver::start(0).await;
    let r = app
        .call(
            "image/upload",
            &[
                ("public_id", "bg"),
                ("async", "true"),
                ("notification_url", &rx.url),
            ],
            Some(("photo.jpg", &fixture("photo.jpg"))),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let pending = r.json();
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["public_id"], "bg");
    assert_eq!(pending["batch_id"].as_str().unwrap().len(), 64);
    let got = rx.wait_for(1).await;
    let n = got[0].json();
    assert!(got[0].signature_valid(SECRET));
    assert_eq!(n["notification_type"], "upload");
    assert_eq!(
        (n["public_id"].as_str(), n["width"].as_i64()),
        (Some("bg"), Some(40))
    );
    let served = app.get(&path_of(&n["secure_url"])).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, fixture("photo.jpg"));
}

#[tokio::test]
async fn a_failed_async_upload_says_so_and_stores_nothing() {
    let app = private_ok_app().await;
    let rx = Receiver::start(0).await;
    let r = app
        .call(
            "image/upload",
            &[
                ("public_id", "bad"),
                ("async", "true"),
                ("notification_url", &rx.url),
            ],
            Some(("notes.txt", &fixture("notes.txt"))),
        )
        .await;
    assert_eq!(r.json()["status"], "pending");
    let got = rx.wait_for(1).await;
    let n = got[0].json();
    assert_eq!(n["status"], "failed");
    assert_eq!(n["public_id"], "bad");
    assert!(
        n["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid image"),
        "{n}"
    );
    let missing = admin(&app, "GET", "resources/image/upload/bad", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_updates_and_deletes_notify() {
    let app = private_ok_app().await;
    let rx = Receiver::start(0).await;
    app.upload_fixture("adm1", "alpha.png", &[]).await;
    app.upload_fixture("adm2", "alpha.png", &[]).await;
    let body = serde_json::json!({ "tags": "blue,green", "notification_url": rx.url });
    let r = admin(&app, "POST", "resources/image/upload/adm1", Some(body)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let body =
        serde_json::json!({ "public_ids": ["adm1", "adm2", "nope"], "notification_url": rx.url });
    let r = admin(&app, "DELETE", "resources/image/upload", Some(body)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let got = rx.wait_for(2).await;
    let kinds: Vec<serde_json::Value> = got.iter().map(Received::json).collect();
    let tags = kinds
        .iter()
        .find(|k| k["notification_type"] == "resource_tags_changed")
        .expect("a tags notification");
    assert_eq!(
        tags["resources"][0]["added"],
        serde_json::json!(["blue", "green"])
    );
    let del = kinds
        .iter()
        .find(|k| k["notification_type"] == "delete")
        .expect("a delete notification");
    let mut gone: Vec<&str> = del["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["public_id"].as_str().unwrap())
        .collect();
    gone.sort();
    assert_eq!(gone, ["adm1", "adm2"], "only what was deleted");
    assert!(got.iter().all(|r| r.signature_valid(SECRET)));
}
