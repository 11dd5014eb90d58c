//! The conformance suite every [`Catalog`] adapter must pass.

use nubo_core::{CloudName, Context, DeliveryType, PublicId, ResourceType, Tags};

use crate::*;

fn cloud() -> CloudName {
    CloudName::parse("conf").unwrap()
}

fn scope() -> AssetScope {
    AssetScope {
        cloud: cloud(),
        resource_type: ResourceType::Image,
        delivery_type: DeliveryType::Upload,
    }
}

fn loc(id: &str) -> AssetLocator {
    AssetLocator {
        scope: scope(),
        public_id: PublicId::parse(id).unwrap(),
    }
}

fn new_asset(id: &str, blob: &str, now: i64) -> NewAsset {
    NewAsset {
        loc: loc(id),
        format: Some("png".into()),
        bytes: 67,
        width: Some(1),
        height: Some(1),
        pages: Some(1),
        etag: "e".repeat(32),
        original_filename: Some("tiny".into()),
        tags: Tags::parse_csv("a,b").unwrap(),
        context: Context::parse("alt=x").unwrap(),
        meta: Default::default(),
        blob_key: blob.into(),
        now,
    }
}

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

async fn pinned(cat: &dyn Catalog, n: u8, now: i64) -> String {
    let proposed = format!("{}.0000000{n:x}", sha(n));
    cat.pin_blob(&sha(n), &proposed, 10, now + 3600)
        .await
        .unwrap()
}

/// Runs every check against a freshly migrated, empty catalog.
pub async fn run_all(cat: &dyn Catalog) {
    clouds_and_keys(cat).await;
    tokens(cat).await;
    presets(cat).await;
    commit_create_replace_keep(cat).await;
    blob_references_are_counted(cat).await;
    rename(cat).await;
    edits_and_tag_index(cat).await;
    delete_tokens(cat).await;
    derived_files(cat).await;
    named_transformations(cat).await;
    admin::run(cat).await;
    jobs::run(cat).await;
}

#[path = "testkit_admin.rs"]
mod admin;
#[path = "testkit_jobs.rs"]
mod jobs;

fn derived_row(asset: &Asset, key: &str, blob: &str) -> Derived {
    Derived {
        id: String::new(),
        asset_id: asset.asset_id.clone(),
        asset_version: asset.version,
        cache_key: key.into(),
        transformation: "c_fill,w_10".into(),
        format: "webp".into(),
        bytes: 5,
        width: 10,
        height: 10,
        blob_key: blob.into(),
        created_at: 7,
    }
}

async fn derived_files(cat: &dyn Catalog) {
    let now = 50_000;
    let later = now + 10 * 3600 * 10;
    let orig = pinned(cat, 40, now).await;
    let CommitOutcome::Created(asset) = cat
        .commit_asset(new_asset("derived/a", &orig, now), OverwritePolicy::Replace)
        .await
        .unwrap()
    else {
        panic!("new asset")
    };
    let first = pinned(cat, 41, now).await;
    let second = pinned(cat, 42, now).await;
    let stored = cat
        .put_derived(&derived_row(&asset, "k|webp", &first))
        .await
        .unwrap();
    assert_eq!(stored.blob_key, first);
    // A racing writer of the same key gets the first one's row back.
    let raced = cat
        .put_derived(&derived_row(&asset, "k|webp", &second))
        .await
        .unwrap();
    assert_eq!(raced.blob_key, first);
    assert_eq!(
        cat.derived(&asset.asset_id, asset.version, "k|webp")
            .await
            .unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        cat.derived(&asset.asset_id, asset.version + 1, "k|webp")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        cat.list_derived(&asset.asset_id).await.unwrap(),
        vec![stored]
    );
    // A derived file keeps its blob alive; the loser's blob is collectable.
    assert!(!cat.collect_blob(&first, later).await.unwrap());
    assert!(cat.collect_blob(&second, later).await.unwrap());
    // Overwriting the asset makes the old version's derived files stale.
    let newer = pinned(cat, 43, now).await;
    cat.commit_asset(
        new_asset("derived/a", &newer, now + 1),
        OverwritePolicy::Replace,
    )
    .await
    .unwrap();
    assert_eq!(
        cat.sweep_stale_derived(100).await.unwrap(),
        vec![first.clone()]
    );
    assert!(cat.sweep_stale_derived(100).await.unwrap().is_empty());
    assert!(cat.collect_blob(&first, later).await.unwrap());
    // delete_old_derived keeps the current version's renderings only.
    let current = cat.asset(&loc("derived/a")).await.unwrap().unwrap();
    let mut older = current.clone();
    older.version -= 1;
    let stale = pinned(cat, 45, now).await;
    let fresh = pinned(cat, 46, now).await;
    cat.put_derived(&derived_row(&older, "old|jpg", &stale))
        .await
        .unwrap();
    cat.put_derived(&derived_row(&current, "new|jpg", &fresh))
        .await
        .unwrap();
    assert_eq!(
        cat.delete_old_derived(&current.asset_id, current.version)
            .await
            .unwrap(),
        vec![stale]
    );
    assert_eq!(
        cat.delete_derived(&current.asset_id).await.unwrap(),
        vec![fresh]
    );
    // delete_derived forgets every rendering of the asset.
    let third = pinned(cat, 44, now).await;
    cat.put_derived(&derived_row(&current, "x|jpg", &third))
        .await
        .unwrap();
    assert_eq!(
        cat.delete_derived(&current.asset_id).await.unwrap(),
        vec![third]
    );
    assert!(cat
        .list_derived(&current.asset_id)
        .await
        .unwrap()
        .is_empty());
}

async fn named_transformations(cat: &dyn Catalog) {
    let n = NamedTransformation {
        cloud: cloud(),
        name: "thumb".into(),
        definition: "c_fill,h_100,w_100".into(),
        allowed_for_strict: true,
        created_at: 1,
        updated_at: 1,
    };
    assert_eq!(
        cat.put_named_transformation(&n).await.unwrap(),
        Created::New
    );
    let changed = NamedTransformation {
        definition: "c_fit,w_50".into(),
        created_at: 2,
        updated_at: 2,
        ..n.clone()
    };
    assert_eq!(
        cat.put_named_transformation(&changed).await.unwrap(),
        Created::AlreadyExisted
    );
    let got = cat
        .named_transformation(&cloud(), "thumb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.definition.as_str(), got.created_at, got.updated_at),
        ("c_fit,w_50", 1, 2)
    );
    assert_eq!(
        cat.list_named_transformations(&cloud())
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(cat
        .delete_named_transformation(&cloud(), "thumb")
        .await
        .unwrap());
    assert!(!cat
        .delete_named_transformation(&cloud(), "thumb")
        .await
        .unwrap());
    assert_eq!(
        cat.named_transformation(&cloud(), "thumb").await.unwrap(),
        None
    );
}

async fn clouds_and_keys(cat: &dyn Catalog) {
    assert_eq!(cat.create_cloud(&cloud(), 1).await.unwrap(), Created::New);
    assert_eq!(
        cat.create_cloud(&cloud(), 2).await.unwrap(),
        Created::AlreadyExisted
    );
    assert!(cat.cloud_exists(&cloud()).await.unwrap());
    assert!(!cat
        .cloud_exists(&CloudName::parse("nope").unwrap())
        .await
        .unwrap());
    assert_eq!(cat.list_clouds().await.unwrap()[0].created_at, 1);

    let key = ApiKeyRecord {
        cloud: cloud(),
        key: "1234".into(),
        secret: "s3cret".into(),
        label: "first".into(),
        created_at: 5,
        revoked_at: None,
    };
    assert_eq!(cat.put_api_key(&key).await.unwrap(), Created::New);
    let again = ApiKeyRecord {
        secret: "other".into(),
        ..key.clone()
    };
    assert_eq!(
        cat.put_api_key(&again).await.unwrap(),
        Created::AlreadyExisted
    );
    assert_eq!(
        cat.api_key(&cloud(), "1234").await.unwrap(),
        Some(key.clone())
    );
    assert!(cat.api_key(&cloud(), "9999").await.unwrap().is_none());
    assert!(cat.revoke_api_key(&cloud(), "1234", 9).await.unwrap());
    assert!(!cat.revoke_api_key(&cloud(), "1234", 10).await.unwrap());
    assert_eq!(
        cat.list_api_keys(&cloud()).await.unwrap()[0].revoked_at,
        Some(9)
    );
}

async fn tokens(cat: &dyn Catalog) {
    let t = TokenRecord {
        id: "tok1".into(),
        cloud: cloud(),
        hash_hex: "ab".repeat(32),
        label: "ci".into(),
        created_at: 1,
        expires_at: Some(100),
        revoked_at: None,
    };
    cat.put_token(&t).await.unwrap();
    assert_eq!(
        cat.token_by_hash(&t.hash_hex).await.unwrap(),
        Some(t.clone())
    );
    assert!(cat.token_by_hash(&"cd".repeat(32)).await.unwrap().is_none());
    assert!(cat.revoke_token(&cloud(), "tok1", 50).await.unwrap());
    assert_eq!(
        cat.list_tokens(&cloud()).await.unwrap()[0].revoked_at,
        Some(50)
    );
}

async fn presets(cat: &dyn Catalog) {
    let mut p = PresetRecord {
        cloud: cloud(),
        name: "web".into(),
        unsigned: true,
        settings: [("folder".to_string(), "uploads".to_string())].into(),
        created_at: 1,
        updated_at: 1,
    };
    assert_eq!(cat.put_preset(&p).await.unwrap(), Created::New);
    p.unsigned = false;
    assert_eq!(cat.put_preset(&p).await.unwrap(), Created::AlreadyExisted);
    assert_eq!(cat.preset(&cloud(), "web").await.unwrap(), Some(p.clone()));
    assert_eq!(cat.list_presets(&cloud()).await.unwrap().len(), 1);
    assert!(cat.delete_preset(&cloud(), "web").await.unwrap());
    assert!(cat.preset(&cloud(), "web").await.unwrap().is_none());
}

async fn commit_create_replace_keep(cat: &dyn Catalog) {
    let b1 = pinned(cat, 1, 1000).await;
    let CommitOutcome::Created(first) = cat
        .commit_asset(new_asset("f/one", &b1, 1000), OverwritePolicy::Replace)
        .await
        .unwrap()
    else {
        panic!("expected a new asset");
    };
    assert_eq!(first.version, 1000);
    assert_eq!(first.asset_id.len(), 32);
    assert_eq!(cat.asset(&loc("f/one")).await.unwrap(), Some(first.clone()));
    assert_eq!(
        cat.asset_by_id(&cloud(), &first.asset_id).await.unwrap(),
        Some(first.clone())
    );

    // Same second: the version must still increase.
    let b2 = pinned(cat, 2, 1000).await;
    let out = cat
        .commit_asset(new_asset("f/one", &b2, 1000), OverwritePolicy::Replace)
        .await
        .unwrap();
    let CommitOutcome::Replaced {
        asset,
        previous_blob,
    } = out
    else {
        panic!("expected replace")
    };
    assert_eq!(previous_blob, b1);
    assert_eq!(asset.version, 1001);
    assert_eq!(
        asset.asset_id, first.asset_id,
        "asset_id is stable across overwrites"
    );
    assert_ne!(asset.version_id, first.version_id);

    let out = cat
        .commit_asset(new_asset("f/one", &b1, 2000), OverwritePolicy::KeepExisting)
        .await
        .unwrap();
    assert!(matches!(out, CommitOutcome::Existing(a) if a.blob_key == b2));

    let unpinned = format!("{}.00000000", sha(9));
    let gone = cat
        .commit_asset(new_asset("f/two", &unpinned, 1), OverwritePolicy::Replace)
        .await;
    assert!(
        matches!(gone, Err(CatalogError::BlobGone(_))),
        "a blob must be pinned before use"
    );
    assert!(cat.asset(&loc("f/two")).await.unwrap().is_none());
}

async fn blob_references_are_counted(cat: &dyn Catalog) {
    let now = 10_000;
    let key = pinned(cat, 3, now).await;
    // Identical content pins the same key: dedup.
    assert_eq!(pinned(cat, 3, now).await, key);
    cat.commit_asset(new_asset("dup/a", &key, now), OverwritePolicy::Replace)
        .await
        .unwrap();
    cat.commit_asset(new_asset("dup/b", &key, now), OverwritePolicy::Replace)
        .await
        .unwrap();
    let later = now + 2 * 3600 * 10;
    assert!(
        !cat.collect_blob(&key, now).await.unwrap(),
        "pinned blobs are kept"
    );
    cat.delete_asset(&loc("dup/a")).await.unwrap().unwrap();
    assert!(
        !cat.collect_blob(&key, later).await.unwrap(),
        "dup/b still uses the blob"
    );
    assert!(cat
        .unreferenced_blobs(later, 100)
        .await
        .unwrap()
        .iter()
        .all(|k| *k != key));
    cat.delete_asset(&loc("dup/b")).await.unwrap().unwrap();
    assert!(cat
        .unreferenced_blobs(later, 100)
        .await
        .unwrap()
        .contains(&key));
    assert!(cat.collect_blob(&key, later).await.unwrap());
    assert!(!cat.collect_blob(&key, later).await.unwrap());
    // Content seen again after collection gets a fresh generation.
    let proposed = format!("{}.000000ff", sha(3));
    assert_eq!(
        cat.pin_blob(&sha(3), &proposed, 10, later + 1)
            .await
            .unwrap(),
        proposed
    );
    assert!(cat.delete_asset(&loc("dup/b")).await.unwrap().is_none());
}

async fn rename(cat: &dyn Catalog) {
    let now = 20_000;
    let k1 = pinned(cat, 4, now).await;
    let k2 = pinned(cat, 5, now).await;
    cat.commit_asset(new_asset("r/src", &k1, now), OverwritePolicy::Replace)
        .await
        .unwrap();
    cat.commit_asset(new_asset("r/dst", &k2, now), OverwritePolicy::Replace)
        .await
        .unwrap();
    let src = cat.asset(&loc("r/src")).await.unwrap().unwrap();

    assert_eq!(
        cat.rename_asset(&loc("r/nope"), &loc("r/x"), false, now)
            .await
            .unwrap(),
        RenameOutcome::SourceMissing
    );
    assert_eq!(
        cat.rename_asset(&loc("r/src"), &loc("r/dst"), false, now)
            .await
            .unwrap(),
        RenameOutcome::TargetExists
    );
    let RenameOutcome::Renamed {
        asset,
        replaced_blob,
    } = cat
        .rename_asset(&loc("r/src"), &loc("r/dst"), true, now + 1)
        .await
        .unwrap()
    else {
        panic!("expected rename")
    };
    assert_eq!(replaced_blob, Some(k2));
    assert_eq!(asset.asset_id, src.asset_id);
    assert_eq!(asset.version, src.version);
    assert!(cat.asset(&loc("r/src")).await.unwrap().is_none());
    assert_eq!(
        cat.tagged(&scope(), "a")
            .await
            .unwrap()
            .iter()
            .filter(|p| p.as_str().starts_with("r/"))
            .count(),
        1
    );

    let private = AssetLocator {
        scope: AssetScope {
            delivery_type: DeliveryType::Private,
            ..scope()
        },
        public_id: PublicId::parse("r/dst").unwrap(),
    };
    assert!(matches!(
        cat.rename_asset(&loc("r/dst"), &private, false, now)
            .await
            .unwrap(),
        RenameOutcome::Renamed { .. }
    ));
    assert!(cat.asset(&private).await.unwrap().is_some());
}

async fn edits_and_tag_index(cat: &dyn Catalog) {
    let now = 30_000;
    let k = pinned(cat, 6, now).await;
    for id in ["e/1", "e/2"] {
        cat.commit_asset(new_asset(id, &k, now), OverwritePolicy::Replace)
            .await
            .unwrap();
    }
    let ids = [
        PublicId::parse("e/1").unwrap(),
        PublicId::parse("e/missing").unwrap(),
    ];
    let touched = cat
        .edit_assets(&scope(), &ids, &AssetEdit::AddTags(vec!["new".into()]), now)
        .await
        .unwrap();
    assert_eq!(touched, vec![PublicId::parse("e/1").unwrap()]);
    assert_eq!(
        cat.tagged(&scope(), "new").await.unwrap(),
        vec![PublicId::parse("e/1").unwrap()]
    );
    let a = cat.asset(&loc("e/1")).await.unwrap().unwrap();
    assert_eq!(a.tags.as_slice(), ["a", "b", "new"]);

    cat.edit_assets(&scope(), &ids[..1], &AssetEdit::RemoveAllTags, now)
        .await
        .unwrap();
    assert!(cat.tagged(&scope(), "new").await.unwrap().is_empty());
    assert!(cat
        .asset(&loc("e/1"))
        .await
        .unwrap()
        .unwrap()
        .tags
        .is_empty());

    let ctx = AssetEdit::AddContext(Context::parse("k=v").unwrap());
    cat.edit_assets(&scope(), &ids[..1], &ctx, now)
        .await
        .unwrap();
    let a = cat.asset(&loc("e/1")).await.unwrap().unwrap();
    assert_eq!(a.context.0.get("k").map(String::as_str), Some("v"));
    assert_eq!(a.context.0.get("alt").map(String::as_str), Some("x"));
}

async fn delete_tokens(cat: &dyn Catalog) {
    let hash = "ef".repeat(32);
    cat.put_delete_token(&hash, &loc("e/2"), 500).await.unwrap();
    assert_eq!(
        cat.take_delete_token(&cloud(), &hash, 100).await.unwrap(),
        Some(loc("e/2"))
    );
    assert_eq!(
        cat.take_delete_token(&cloud(), &hash, 100).await.unwrap(),
        None,
        "tokens are single use"
    );
    cat.put_delete_token(&hash, &loc("e/2"), 500).await.unwrap();
    assert_eq!(
        cat.take_delete_token(&cloud(), &hash, 600).await.unwrap(),
        None,
        "expired"
    );
}
