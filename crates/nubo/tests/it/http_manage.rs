//! destroy, rename, explicit, tags, context, delete_by_token, and what they
//! do to stored bytes (deduplication and collection).

use axum::http::StatusCode;

use crate::harness::*;

#[tokio::test]
async fn tags_and_context_commands() {
    let app = TestApp::new().await;
    let png = fixture("alpha.png");
    for id in ["t1", "t2", "t3"] {
        app.call(
            "image/upload",
            &[("public_id", id), ("tags", "base")],
            Some(("a.png", &png)),
        )
        .await;
    }
    let r = app
        .call(
            "image/tags",
            &[
                ("command", "add"),
                ("tag", "x,y"),
                ("public_ids[]", "t1"),
                ("public_ids[]", "t2"),
                ("public_ids[]", "ghost"),
            ],
            None,
        )
        .await;
    assert_eq!(r.json()["public_ids"], serde_json::json!(["t1", "t2"]));
    assert_eq!(
        tags_of(&app, "t1").await,
        serde_json::json!(["base", "x", "y"])
    );
    app.call(
        "image/tags",
        &[("command", "remove"), ("tag", "x"), ("public_ids[]", "t1")],
        None,
    )
    .await;
    assert_eq!(tags_of(&app, "t1").await, serde_json::json!(["base", "y"]));
    app.call(
        "image/tags",
        &[
            ("command", "replace"),
            ("tag", "only"),
            ("public_ids[]", "t1"),
        ],
        None,
    )
    .await;
    assert_eq!(tags_of(&app, "t1").await, serde_json::json!(["only"]));
    app.call(
        "image/tags",
        &[
            ("command", "set_exclusive"),
            ("tag", "hero"),
            ("public_ids[]", "t2"),
        ],
        None,
    )
    .await;
    app.call(
        "image/tags",
        &[
            ("command", "set_exclusive"),
            ("tag", "hero"),
            ("public_ids[]", "t3"),
        ],
        None,
    )
    .await;
    assert_eq!(
        tags_of(&app, "t2").await,
        serde_json::json!(["base", "x", "y"])
    );
    assert_eq!(
        tags_of(&app, "t3").await,
        serde_json::json!(["base", "hero"])
    );
    app.call(
        "image/tags",
        &[("command", "remove_all"), ("public_ids[]", "t3")],
        None,
    )
    .await;
    assert_eq!(tags_of(&app, "t3").await, serde_json::json!([]));
    let r = app
        .call(
            "image/tags",
            &[("command", "explode"), ("tag", "a"), ("public_ids[]", "t3")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // notification_url is sent but unsigned on the tags action (§3.1).
    let mut fields = signed(
        "tags",
        &[("command", "add"), ("tag", "n"), ("public_ids[]", "t1")],
        now(),
    );
    fields.push(("notification_url".into(), "http://hook.example/x".into()));
    assert_eq!(
        app.post_form("/v1_1/demo/image/tags", &fields, None)
            .await
            .status,
        StatusCode::OK
    );

    app.call(
        "image/context",
        &[
            ("command", "add"),
            ("context", "k=v|alt=a\\|b"),
            ("public_ids[]", "t1"),
        ],
        None,
    )
    .await;
    let ctx = app
        .call("image/explicit", &[("public_id", "t1")], None)
        .await
        .json()["context"]
        .clone();
    assert_eq!(ctx, serde_json::json!({"custom": {"k": "v", "alt": "a|b"}}));
    app.call(
        "image/context",
        &[("command", "remove_all"), ("public_ids[]", "t1")],
        None,
    )
    .await;
    let j = app
        .call("image/explicit", &[("public_id", "t1")], None)
        .await
        .json();
    assert!(j.get("context").is_none(), "emptied context is omitted");
}

#[tokio::test]
async fn explicit_rename_and_destroy() {
    let app = TestApp::new().await;
    let png = fixture("alpha.png");
    let jpg = fixture("photo.jpg");
    let a = app
        .call("image/upload", &[("public_id", "a")], Some(("a.png", &png)))
        .await
        .json();
    app.call("image/upload", &[("public_id", "b")], Some(("b.jpg", &jpg)))
        .await;

    let r = app
        .call(
            "image/explicit",
            &[("public_id", "a"), ("tags", "e1,e2"), ("context", "c=1")],
            None,
        )
        .await
        .json();
    assert_eq!(
        (r["tags"].clone(), r["context"]["custom"]["c"].clone()),
        (serde_json::json!(["e1", "e2"]), "1".into())
    );
    let r = app
        .call("image/explicit", &[("public_id", "ghost")], None)
        .await;
    assert_eq!(
        (r.status, r.error_message().as_str()),
        (StatusCode::NOT_FOUND, "Resource not found - ghost")
    );

    let r = app
        .call(
            "image/rename",
            &[("from_public_id", "a"), ("to_public_id", "b")],
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "target exists and overwrite is off"
    );
    let r = app
        .call(
            "image/rename",
            &[("from_public_id", "ghost"), ("to_public_id", "z")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call(
            "image/rename",
            &[
                ("from_public_id", "a"),
                ("to_public_id", "b"),
                ("overwrite", "true"),
            ],
            None,
        )
        .await
        .json();
    assert_eq!(
        (r["public_id"].as_str(), r["asset_id"].clone()),
        (Some("b"), a["asset_id"].clone())
    );
    assert_eq!(app.get("/demo/image/upload/b.png").await.body, png);
    assert_eq!(
        app.get("/demo/image/upload/a.png").await.status,
        StatusCode::NOT_FOUND
    );

    let r = app
        .call(
            "image/rename",
            &[
                ("from_public_id", "b"),
                ("to_public_id", "hidden"),
                ("to_type", "private"),
            ],
            None,
        )
        .await
        .json();
    assert_eq!(r["type"], "private");

    assert_eq!(
        app.call(
            "image/destroy",
            &[("public_id", "hidden"), ("type", "private")],
            None
        )
        .await
        .json()["result"],
        "ok"
    );
    assert_eq!(
        app.call(
            "image/destroy",
            &[("public_id", "hidden"), ("type", "private")],
            None
        )
        .await
        .json()["result"],
        "not found"
    );
    let r = app.call("auto/destroy", &[("public_id", "x")], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Unsigned management calls are refused.
    let r = app
        .post_form(
            "/v1_1/demo/image/destroy",
            &[("public_id".into(), "b".into())],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn identical_bytes_share_one_blob_until_the_last_reference_goes() {
    let app = TestApp::new().await;
    let png = fixture("alpha.png");
    app.call(
        "image/upload",
        &[("public_id", "one")],
        Some(("a.png", &png)),
    )
    .await;
    app.call(
        "image/upload",
        &[("public_id", "two")],
        Some(("a.png", &png)),
    )
    .await;
    assert_eq!(app.blob_files(), 1, "content-addressed: stored once");
    app.call("image/destroy", &[("public_id", "one")], None)
        .await;
    let later = now() + 2 * 3600; // past the pins taken by the uploads
    app.service.sweep_blobs(later).await.unwrap();
    assert_eq!(
        app.get("/demo/image/upload/two.png").await.body,
        png,
        "still referenced by two"
    );
    assert_eq!(app.blob_files(), 1);
    app.call("image/destroy", &[("public_id", "two")], None)
        .await;
    assert_eq!(app.service.sweep_blobs(later).await.unwrap(), 1);
    assert_eq!(app.blob_files(), 0, "the last reference released the bytes");

    // Overwriting releases the replaced bytes.
    app.call(
        "image/upload",
        &[("public_id", "ow")],
        Some(("a.png", &png)),
    )
    .await;
    app.call(
        "image/upload",
        &[("public_id", "ow")],
        Some(("b.jpg", &fixture("photo.jpg"))),
    )
    .await;
    assert_eq!(app.blob_files(), 2);
    assert_eq!(app.service.sweep_blobs(later).await.unwrap(), 1);
    assert_eq!(app.blob_files(), 1);
    assert_eq!(
        app.get("/demo/image/upload/ow.jpg").await.body,
        fixture("photo.jpg")
    );
}

#[tokio::test]
async fn delete_tokens_delete_once() {
    let app = TestApp::new().await;
    let up = app
        .call(
            "image/upload",
            &[("public_id", "tok"), ("return_delete_token", "true")],
            Some(("a.png", &fixture("alpha.png"))),
        )
        .await
        .json();
    let token = up["delete_token"].as_str().unwrap().to_owned();
    let form = vec![("token".to_string(), token)];
    let r = app
        .post_form("/v1_1/demo/delete_by_token", &form, None)
        .await;
    assert_eq!(r.json()["result"], "ok");
    assert_eq!(
        app.get("/demo/image/upload/tok.png").await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post_form("/v1_1/demo/delete_by_token", &form, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn tags_of(app: &TestApp, id: &str) -> serde_json::Value {
    app.call(
        "image/explicit",
        &[("public_id", id), ("type", "upload")],
        None,
    )
    .await
    .json()["tags"]
        .clone()
}
