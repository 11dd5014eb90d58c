//! Face detection and smart crops over HTTP: `faces=true` at upload and in
//! details, stored coordinates overriding detection, and derived files
//! dropped when the coordinates change.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::*;

const PAIR: &str = "faces/2009_004587.jpg";

fn dims(body: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(body).expect("an image");
    (img.width(), img.height())
}

#[tokio::test]
async fn faces_are_detected_at_upload_and_drive_face_crops() {
    let app = TestApp::new().await;
    let up = app.upload_fixture("pair", PAIR, &[("faces", "true")]).await;
    let faces = up["faces"].as_array().expect("faces in the response");
    assert_eq!(faces.len(), 2, "{faces:?}");
    let side = |f: &serde_json::Value| f[2].as_u64().unwrap();
    assert!(
        side(&faces[0]) > side(&faces[1]),
        "largest first: {faces:?}"
    );
    // The larger face is the woman's at the top (labelled 154,46,75,76).
    let (x, y) = (faces[0][0].as_u64().unwrap(), faces[0][1].as_u64().unwrap());
    assert!(
        (130..=170).contains(&x) && (25..=60).contains(&y),
        "{faces:?}"
    );

    let v = up["version"].as_i64().unwrap();
    for (t, want) in [
        ("c_thumb,g_face,h_120,w_120", (120, 120)),
        ("c_fill,g_faces,h_100,w_300", (300, 100)),
        ("c_fill,g_auto,h_100,w_300", (300, 100)),
        ("c_crop,g_face", (83, 83)),
        ("c_scale,w_200/e_pixelate_faces:8", (200, 250)),
    ] {
        let r = app
            .get(&format!("/demo/image/upload/{t}/v{v}/pair.png"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{t}: {}", r.error_message());
        let got = dims(&r.body);
        if t == "c_crop,g_face" {
            // The detector's box, give or take its rounding.
            assert!(
                (70..=100).contains(&got.0) && got.0 == got.1,
                "{t}: {got:?}"
            );
        } else {
            assert_eq!(got, want, "{t}");
        }
    }
    // Details report the same faces, detected again from the original.
    let d = admin(&app, "GET", "resources/image/upload/pair?faces=true", None).await;
    assert_eq!(d.json()["faces"], up["faces"]);
}

#[tokio::test]
async fn stored_coordinates_override_detection_and_updates_drop_stale_crops() {
    let app = TestApp::new().await;
    let up = app
        .upload_fixture(
            "pair",
            PAIR,
            &[("face_coordinates", "10,440,50,50"), ("faces", "true")],
        )
        .await;
    assert_eq!(up["faces"], json!([[10, 440, 50, 50]]));
    let v = up["version"].as_i64().unwrap();
    let app = &app;
    let get = |t: &str| {
        let url = format!("/demo/image/upload/{t}/v{v}/pair.png");
        async move { app.get(&url).await }
    };
    let by_face = get("c_fill,g_face,h_100,w_300").await;
    assert_eq!(by_face.body, get("c_fill,g_south,h_100,w_300").await.body);

    let r = admin(
        app,
        "POST",
        "resources/image/upload/pair",
        Some(json!({"face_coordinates": "0,0,40,40", "custom_coordinates": "300,0,100,100"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    let d = admin(
        app,
        "GET",
        "resources/image/upload/pair?faces=true&coordinates=true",
        None,
    )
    .await
    .json();
    assert_eq!(d["faces"], json!([[0, 0, 40, 40]]));
    assert_eq!(d["coordinates"]["faces"], json!([[0, 0, 40, 40]]));
    assert_eq!(d["coordinates"]["custom"], json!([[300, 0, 100, 100]]));
    assert_eq!(d["derived"], json!([]), "old crops were dropped");
    // The same URL now follows the new coordinates.
    let again = get("c_fill,g_face,h_100,w_300").await;
    assert_eq!(again.body, get("c_fill,g_north,h_100,w_300").await.body);
    assert_ne!(again.body, by_face.body);
    let custom = get("c_crop,g_custom").await;
    assert_eq!(dims(&custom.body), (100, 100));
}

#[tokio::test]
async fn bad_coordinates_refuse_the_upload() {
    let app = TestApp::new().await;
    for bad in ["1,2,3", "a,b,c,d", "1,2,0,4"] {
        let r = app
            .call(
                "image/upload",
                &[("public_id", "nope"), ("face_coordinates", bad)],
                Some(("p.jpg", &fixture(PAIR))),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            r.error_message().starts_with("Invalid face_coordinates"),
            "{}",
            r.error_message()
        );
    }
    let missing = admin(&app, "GET", "resources/image/upload/nope", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn quality_analysis_scores_focus_at_upload_and_in_details() {
    let app = TestApp::new().await;
    let sharp = app
        .upload_fixture("sharp", PAIR, &[("quality_analysis", "true")])
        .await;
    // The same photo blurred before it is stored.
    let blurred = app
        .upload_fixture(
            "blurred",
            PAIR,
            &[
                ("quality_analysis", "true"),
                ("transformation", "e_blur:1500"),
            ],
        )
        .await;
    let q = |v: &serde_json::Value, k: &str| v["quality_analysis"][k].as_f64().unwrap();
    for k in ["focus", "contrast", "exposure", "saturation"] {
        assert!((0.0..=1.0).contains(&q(&sharp, k)), "{k}: {sharp}");
    }
    assert!(
        q(&sharp, "focus") > 2.0 * q(&blurred, "focus"),
        "{sharp} {blurred}"
    );
    assert!(sharp["quality_score"].as_f64().unwrap() > blurred["quality_score"].as_f64().unwrap());
    let d = admin(
        &app,
        "GET",
        "resources/image/upload/sharp?quality_analysis=true",
        None,
    )
    .await;
    assert_eq!(d.json()["quality_analysis"], sharp["quality_analysis"]);
    let plain = admin(&app, "GET", "resources/image/upload/sharp", None).await;
    assert!(plain.json().get("quality_analysis").is_none());
}

#[tokio::test]
async fn responsive_breakpoints_step_by_bytes_and_become_derived_files() {
    let app = TestApp::new().await;
    let spec = r#"[{"create_derived": true, "bytes_step": 4000, "min_width": 80, "max_width": 1000},
                   {"create_derived": false, "bytes_step": 4000, "min_width": 80, "max_width": 300,
                    "max_images": 3, "format": "webp"}]"#;
    let up = app
        .upload_fixture("pair", PAIR, &[("responsive_breakpoints", spec)])
        .await;
    let sets = up["responsive_breakpoints"]
        .as_array()
        .expect("breakpoints");
    assert_eq!(sets.len(), 2);
    let points = sets[0]["breakpoints"].as_array().unwrap();
    let widths: Vec<u64> = points
        .iter()
        .map(|p| p["width"].as_u64().unwrap())
        .collect();
    let bytes: Vec<u64> = points
        .iter()
        .map(|p| p["bytes"].as_u64().unwrap())
        .collect();
    // Never wider than the 400 px original; down to min_width.
    assert_eq!(widths.first(), Some(&400), "{widths:?}");
    assert_eq!(widths.last(), Some(&80), "{widths:?}");
    assert!(widths.len() >= 3, "{widths:?}");
    assert!(widths.windows(2).all(|w| w[0] > w[1]), "{widths:?}");
    assert!(bytes.windows(2).all(|b| b[0] > b[1]), "{bytes:?}");
    // Between breakpoints the size falls by about the step (the last one
    // stops at min_width, so it may fall less).
    for b in bytes[..bytes.len() - 1].windows(2) {
        let fall = b[0] - b[1];
        assert!(
            (2000..=8000).contains(&fall),
            "fell {fall} bytes: {bytes:?}"
        );
    }
    // They are derived files, served as listed.
    let d = admin(&app, "GET", "resources/image/upload/pair", None)
        .await
        .json();
    assert_eq!(d["derived"].as_array().unwrap().len(), points.len());
    let first = app.get(&path_of(&points[0]["secure_url"])).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.len() as u64, bytes[0]);
    assert_eq!(dims(&first.body), (400, 500));
    // The second setting measures WebP without keeping anything.
    let webp = sets[1]["breakpoints"].as_array().unwrap();
    assert_eq!(webp.len(), 3);
    assert_eq!(webp[0]["width"], 300);
    assert!(webp[0]["secure_url"].as_str().unwrap().ends_with(".webp"));

    let bad = app
        .call(
            "image/upload",
            &[
                ("public_id", "x"),
                ("responsive_breakpoints", r#"{"min_width": 0}"#),
            ],
            Some(("p.jpg", &fixture(PAIR))),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad
        .error_message()
        .starts_with("Invalid responsive_breakpoints"));
}
