//! Layers over HTTP: stored images as overlays and underlays, text with
//! inline and stored styles (the `text` method), `l_fetch` under the
//! SSRF rules, signatures for private layers, and the errors.

use axum::http::StatusCode;
use base64::Engine as _;

use crate::harness::*;

fn rgba(body: &[u8]) -> image::RgbaImage {
    image::load_from_memory(body).expect("an image").to_rgba8()
}

fn red_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(w, h, image::Rgba([255, 0, 0, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn is_red(p: &image::Rgba<u8>) -> bool {
    p[0] > 200 && p[1] < 60 && p[2] < 60 && p[3] > 200
}

fn red_box(img: &image::RgbaImage) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if is_red(p) {
            let (x0, y0, x1, y1) = b.unwrap_or((x, y, x, y));
            b = Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y)));
        }
    }
    b
}

async fn upload_bytes(app: &TestApp, id: &str, name: &str, bytes: &[u8], extra: &[(&str, &str)]) {
    let mut fields = vec![("public_id", id)];
    fields.extend_from_slice(extra);
    let r = app.call("image/upload", &fields, Some((name, bytes))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
}

#[tokio::test]
async fn stored_images_overlay_and_underlay() {
    let app = TestApp::new().await;
    app.upload_fixture("photo", "photo.jpg", &[]).await;
    upload_bytes(&app, "brand/logo", "logo.png", &red_png(40, 20), &[]).await;
    let base = rgba(
        &app.get("/demo/image/upload/c_scale,w_200/photo.png")
            .await
            .body,
    );
    let r = app
        .get("/demo/image/upload/c_scale,w_200/l_brand:logo,g_south_east,x_10,y_10/photo.png")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    let img = rgba(&r.body);
    assert_eq!(img.dimensions(), base.dimensions());
    let (w, h) = img.dimensions();
    assert_eq!(red_box(&img), Some((w - 50, h - 30, w - 11, h - 11)));
    // The same chain spelled in another order is the same derived file.
    let again = app
        .get("/demo/image/upload/w_200,c_scale/y_10,x_10,g_south_east,l_brand:logo/photo.png")
        .await;
    assert_eq!(again.body, r.body);
    // Relative size, grouped components, and an underlay that shows
    // through a transparent border.
    let r = app
        .get("/demo/image/upload/c_scale,w_200/l_brand:logo/c_scale,fl_relative,w_0.5/fl_layer_apply,g_north/photo.png")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    let (x0, y0, x1, _) = red_box(&rgba(&r.body)).unwrap();
    assert_eq!((x1 - x0 + 1, y0), (100, 0));
    let r = app
        .get("/demo/image/upload/c_scale,w_100/bo_10px_solid_rgb:00000000/u_brand:logo,w_1.0,h_1.0,c_scale,fl_relative/photo.png")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    let img = rgba(&r.body);
    assert!(
        is_red(img.get_pixel(2, 2)),
        "the underlay shows at the border"
    );
    assert!(
        !is_red(img.get_pixel(60, img.height() / 2)),
        "the photo stays on top"
    );
}

#[tokio::test]
async fn text_layers_and_the_text_method() {
    let app = TestApp::new().await;
    app.upload_fixture("photo", "photo.jpg", &[]).await;
    let r = app
        .get("/demo/image/upload/c_scale,w_400/co_rgb:ff0000,g_north_west,l_text:Roboto_30_bold:Hello%252C%20Nubo,x_5,y_5/photo.png")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    let (x0, y0, x1, y1) = red_box(&rgba(&r.body)).expect("red text");
    assert!(
        x0 <= 8 && y0 <= 9 && x1 - x0 > 120 && y1 - y0 > 18,
        "{x0} {y0} {x1} {y1}"
    );

    // A stored style: the text method makes a PNG of type `text`.
    let made = app
        .call(
            "image/text",
            &[
                ("text", "Sale"),
                ("public_id", "sale_style"),
                ("font_family", "Open Sans"),
                ("font_size", "40"),
                ("font_weight", "bold"),
                ("font_color", "#00ff00"),
            ],
            None,
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.error_message());
    let body = made.json();
    assert_eq!(body["type"], "text");
    assert_eq!(body["format"], "png");
    assert!(body["width"].as_u64().unwrap() > 60);
    let png = app.get(&path_of(&body["secure_url"])).await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(
        rgba(&png.body).width() as u64,
        body["width"].as_u64().unwrap()
    );
    let styled = app
        .get("/demo/image/upload/c_scale,w_400/l_text:sale_style:Half%20price/photo.png")
        .await;
    assert_eq!(styled.status, StatusCode::OK, "{}", styled.error_message());
    let green = rgba(&styled.body)
        .pixels()
        .filter(|p| p[1] > 200 && p[0] < 60 && p[2] < 60)
        .count();
    // The style is font, size and weight; colour comes from co_ (black).
    assert_eq!(
        green, 0,
        "the text method's colour is not part of the style"
    );
    let dark = rgba(&styled.body)
        .pixels()
        .filter(|p| p[0] < 20 && p[1] < 20 && p[2] < 20)
        .count();
    assert!(dark > 300, "the text is drawn: {dark}");
    let missing = app
        .get("/demo/image/upload/l_text:no_such_style:hi/photo.png")
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.error_message().contains("no_such_style"),
        "{}",
        missing.error_message()
    );
}

#[tokio::test]
async fn layer_errors_are_400_with_the_reason() {
    let app = TestApp::new().await;
    app.upload_fixture("photo", "photo.jpg", &[]).await;
    for (t, needle) in [
        ("l_missing", "Layer image missing not found"),
        ("l_text:Comic%20Sans_20:hi", "Unknown font family"),
        ("l_video:dog", "Layers of video files"),
        ("w_10/fl_layer_apply", "fl_layer_apply without"),
        ("e_multiply", "outside a layer"),
        ("l_text:Arial_20:", "Invalid text layer"),
        ("w_10,fl_cutter", "fl_cutter outside a layer"),
        (
            "l_text:Arial_24:one%20two%20three%20four,c_fit,w_40,h_20,fl_text_disallow_overflow",
            "fit in a height of 20 pixels",
        ),
    ] {
        let r = app.get(&format!("/demo/image/upload/{t}/photo.jpg")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{t}");
        assert!(
            r.error_message().contains(needle),
            "{t}: {}",
            r.error_message()
        );
    }
}

#[tokio::test]
async fn private_layers_need_a_signed_url() {
    let app = TestApp::new().await;
    app.upload_fixture("photo", "photo.jpg", &[]).await;
    upload_bytes(
        &app,
        "secret",
        "s.png",
        &red_png(10, 10),
        &[("type", "private")],
    )
    .await;
    let r = app
        .get("/demo/image/upload/l_private:secret/photo.jpg")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.error_message());
    // Signed as the SDKs sign: the transformation and the public id.
    let signed = nubo_service::signing::url_signature(
        "l_private:secret/photo.jpg",
        SECRET,
        nubo_service::signing::SignatureAlgorithm::Sha1,
        false,
    );
    let r = app
        .get(&format!(
            "/demo/image/upload/s--{signed}--/l_private:secret/photo.jpg"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
}

#[tokio::test]
async fn fetch_layers_follow_the_ssrf_rules() {
    // A local server with a red square, as a remote site would serve it.
    let png = red_png(30, 30);
    let app_router = axum::Router::new().route(
        "/red.png",
        axum::routing::get(move || {
            let png = png.clone();
            async move { ([("content-type", "image/png")], png) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/red.png", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app_router).await.unwrap() });
    let b64 = base64::engine::general_purpose::URL_SAFE.encode(&url);
    let t = format!("/demo/image/upload/c_scale,w_200/l_fetch:{b64},g_north_west/photo.png");

    let strict = TestApp::new().await;
    strict.upload_fixture("photo", "photo.jpg", &[]).await;
    let r = strict.get(&t).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "loopback is refused by default"
    );
    assert!(
        r.error_message().contains("not allowed"),
        "{}",
        r.error_message()
    );

    let open = TestApp::with(nubo_core::Limits::default(), true).await;
    open.upload_fixture("photo", "photo.jpg", &[]).await;
    let r = open.get(&t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    assert_eq!(red_box(&rgba(&r.body)), Some((0, 0, 29, 29)));
}

/// Custom fonts: a TrueType file uploaded as a raw asset draws text layers
/// and `text` images that name it.
#[tokio::test]
async fn text_in_a_font_uploaded_as_a_raw_asset() {
    let app = TestApp::new().await;
    app.upload_fixture("photo", "photo.jpg", &[]).await;
    let font = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../nubo-engine/fonts/Roboto-Bold.ttf"
    ))
    .unwrap();
    for (id, kind) in [
        ("fonts/Brand-Bold.ttf", "upload"),
        ("fonts/Secret.ttf", "authenticated"),
    ] {
        let r = app
            .call(
                "raw/upload",
                &[("public_id", id), ("type", kind)],
                Some(("f.ttf", &font)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
    }
    let url = |t: &str| format!("/demo/image/upload/c_scale,w_400/{t}/photo.png");
    let custom = app.get(&url("l_text:fonts:Brand-Bold.ttf_40:Hello")).await;
    assert_eq!(custom.status, StatusCode::OK, "{}", custom.error_message());
    let bundled = app.get(&url("l_text:Roboto_40_bold:Hello")).await;
    assert_eq!(rgba(&custom.body), rgba(&bundled.body));
    let secret = app.get(&url("l_text:fonts:Secret.ttf_40:Hello")).await;
    assert_eq!(rgba(&secret.body), rgba(&bundled.body));
    let missing = app.get(&url("l_text:fonts:Nope.ttf_40:Hello")).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing
        .error_message()
        .contains("Font fonts/Nope.ttf not found"));
    // Something that is not a font: a 400 that says so.
    let r = app
        .call(
            "raw/upload",
            &[("public_id", "fonts/Junk.ttf")],
            Some(("j.ttf", b"junk")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let junk = app.get(&url("l_text:fonts:Junk.ttf_40:Hello")).await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
    assert!(
        junk.error_message().contains("could not be read"),
        "{}",
        junk.error_message()
    );
    // The text method takes the same names.
    let r = app
        .call(
            "image/text",
            &[
                ("text", "Hi"),
                ("font_family", "fonts:Brand-Bold.ttf"),
                ("font_size", "30"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.error_message());
}
