//! Conformance checks of the Admin API queries: listings, search, cursors,
//! aggregations, folders, tags, usage, derived ids and updates. Every
//! adapter must give the same answers, so these assert exact results.

use nubo_core::search::{parse, Direction, SortField};
use nubo_core::{CloudName, Context, DeliveryType, PublicId, ResourceType, Tags};

use crate::*;

fn cloud() -> CloudName {
    CloudName::parse("adm").unwrap()
}

fn at(rt: ResourceType, id: &str) -> AssetLocator {
    AssetLocator {
        scope: AssetScope {
            cloud: cloud(),
            resource_type: rt,
            delivery_type: DeliveryType::Upload,
        },
        public_id: PublicId::parse(id).unwrap(),
    }
}

struct Seed {
    id: &'static str,
    rt: ResourceType,
    format: Option<&'static str>,
    bytes: i64,
    width: Option<i64>,
    tags: &'static str,
    context: &'static str,
    now: i64,
}

const SEEDS: &[Seed] = &[
    Seed {
        id: "shop/shoes/red",
        rt: ResourceType::Image,
        format: Some("jpg"),
        bytes: 2_000_000,
        width: Some(1600),
        tags: "sale,shoes",
        context: "alt=red shoe",
        now: 1_000,
    },
    Seed {
        id: "shop/shoes/blue",
        rt: ResourceType::Image,
        format: Some("png"),
        bytes: 500,
        width: Some(300),
        tags: "shoes",
        context: "alt=blue shoe|sku=B1",
        now: 2_000,
    },
    Seed {
        id: "shop/hats/cap",
        rt: ResourceType::Image,
        format: Some("jpg"),
        bytes: 90_000,
        width: Some(800),
        tags: "sale,hats",
        context: "",
        now: 3_000,
    },
    Seed {
        id: "home",
        rt: ResourceType::Image,
        format: Some("webp"),
        bytes: 10_000,
        width: Some(1200),
        tags: "homepage",
        context: "",
        now: 4_000,
    },
    Seed {
        id: "docs/manual.pdf",
        rt: ResourceType::Raw,
        format: None,
        bytes: 7_000,
        width: None,
        tags: "sale",
        context: "",
        now: 5_000,
    },
    Seed {
        id: "Shop/Upper",
        rt: ResourceType::Image,
        format: Some("gif"),
        bytes: 1,
        width: Some(10),
        tags: "",
        context: "",
        now: 6_000,
    },
];

async fn seed(cat: &dyn Catalog) {
    for (i, s) in SEEDS.iter().enumerate() {
        let sha = format!("{:02x}", 0xa0 + i).repeat(32);
        let key = cat
            .pin_blob(&sha, &format!("{sha}.1"), 1, s.now + 3600)
            .await
            .unwrap();
        let new = NewAsset {
            loc: at(s.rt, s.id),
            format: s.format.map(str::to_owned),
            bytes: s.bytes,
            width: s.width,
            height: s.width.map(|w| w / 2),
            pages: None,
            etag: "e".repeat(32),
            original_filename: None,
            tags: Tags::parse_csv(s.tags).unwrap(),
            context: if s.context.is_empty() {
                Context::default()
            } else {
                Context::parse(s.context).unwrap()
            },
            meta: Default::default(),
            blob_key: key,
            now: s.now,
        };
        cat.commit_asset(new, OverwritePolicy::Replace)
            .await
            .unwrap();
    }
}

fn query(expr: &str) -> AssetQuery {
    AssetQuery {
        cloud: cloud(),
        resource_type: None,
        delivery_type: None,
        expr: parse(expr).unwrap(),
        sort: vec![(SortField::PublicId, Direction::Asc)],
        limit: 100,
        cursor: None,
        with_total: true,
        aggregate: vec![],
        now: 10_000,
    }
}

async fn ids(cat: &dyn Catalog, expr: &str) -> Vec<String> {
    let page = cat.query_assets(&query(expr)).await.unwrap();
    let got: Vec<String> = page
        .assets
        .iter()
        .map(|a| a.loc.public_id.to_string())
        .collect();
    assert_eq!(page.total_count, Some(got.len() as i64), "{expr}");
    got
}

pub(crate) async fn run(cat: &dyn Catalog) {
    seed(cat).await;
    expressions(cat).await;
    pages_are_stable(cat).await;
    aggregations(cat).await;
    folders(cat).await;
    tags_usage_and_types(cat).await;
    derived_ids_and_updates(cat).await;
    metadata(cat).await;
    folder_renames(cat).await;
    chunk_sessions(cat).await;
}

async fn expressions(cat: &dyn Catalog) {
    let table: &[(&str, &[&str])] = &[
        (
            "",
            &[
                "Shop/Upper",
                "docs/manual.pdf",
                "home",
                "shop/hats/cap",
                "shop/shoes/blue",
                "shop/shoes/red",
            ],
        ),
        ("resource_type:raw", &["docs/manual.pdf"]),
        (
            "tags:sale",
            &["docs/manual.pdf", "shop/hats/cap", "shop/shoes/red"],
        ),
        (
            "tags:sale AND format:jpg",
            &["shop/hats/cap", "shop/shoes/red"],
        ),
        ("tags:sale -format:jpg", &["docs/manual.pdf"]),
        ("tags:h*", &["home", "shop/hats/cap"]),
        ("folder:shop/shoes", &["shop/shoes/blue", "shop/shoes/red"]),
        (
            "folder:shop/*",
            &["shop/hats/cap", "shop/shoes/blue", "shop/shoes/red"],
        ),
        (
            "public_id:shop*",
            &["shop/hats/cap", "shop/shoes/blue", "shop/shoes/red"],
        ),
        ("public_id:Shop*", &["Shop/Upper"]),
        ("filename:cap", &["shop/hats/cap"]),
        ("filename=manual", &["docs/manual.pdf"]),
        ("bytes>1mb", &["shop/shoes/red"]),
        (
            "bytes:[500 TO 10kb]",
            &["docs/manual.pdf", "home", "shop/shoes/blue"],
        ),
        (
            "width>=1200 OR format=gif",
            &["Shop/Upper", "home", "shop/shoes/red"],
        ),
        ("NOT width>100", &["Shop/Upper", "docs/manual.pdf"]),
        ("pixels>1000000", &["shop/shoes/red"]),
        (
            "aspect_ratio=2",
            &[
                "Shop/Upper",
                "home",
                "shop/hats/cap",
                "shop/shoes/blue",
                "shop/shoes/red",
            ],
        ),
        ("context.alt=\"red shoe\"", &["shop/shoes/red"]),
        ("context.sku:*", &["shop/shoes/blue"]),
        ("shoes", &["shop/shoes/blue", "shop/shoes/red"]),
        ("\"blue shoe\"", &["shop/shoes/blue"]),
        ("created_at<1970-01-01T00:20:00Z", &["shop/shoes/red"]),
        (
            "created_at>1970-01-01T01:00:00Z",
            &["Shop/Upper", "docs/manual.pdf", "home"],
        ),
        ("uploaded_at>4001s", &["Shop/Upper"]),
        (
            "(tags:hats OR tags:homepage) AND NOT format:webp",
            &["shop/hats/cap"],
        ),
        (
            "tags:sale AND bytes>50000",
            &["shop/hats/cap", "shop/shoes/red"],
        ),
        (
            "(tags:sale OR tags:homepage) AND width>=1200",
            &["home", "shop/shoes/red"],
        ),
        (
            "tags:shoes AND created_at>1970-01-01T00:20:00Z",
            &["shop/shoes/blue"],
        ),
        (
            "(tags:hats OR tags:sale) AND pixels>1000000 AND NOT type:private",
            &["shop/shoes/red"],
        ),
        (
            "tags:sale OR tags:hats",
            &["docs/manual.pdf", "shop/hats/cap", "shop/shoes/red"],
        ),
        ("colour:red", &[]),
        (
            "status:active AND type:upload AND resource_type:raw",
            &["docs/manual.pdf"],
        ),
    ];
    for (expr, want) in table {
        assert_eq!(ids(cat, expr).await, *want, "{expr}");
    }
    // A cursor of another shape is the caller's fault, not ours.
    let mut q = query("");
    q.cursor = Some("bm90IG91cnM".into());
    assert!(matches!(
        cat.query_assets(&q).await,
        Err(CatalogError::BadQuery(_))
    ));
}

async fn pages_are_stable(cat: &dyn Catalog) {
    for sort in [
        vec![(SortField::CreatedAt, Direction::Desc)],
        vec![
            (SortField::Format, Direction::Asc),
            (SortField::Bytes, Direction::Desc),
        ],
        vec![(SortField::PublicId, Direction::Desc)],
    ] {
        let mut q = query("");
        q.sort = sort.clone();
        q.limit = 500;
        let all: Vec<String> = cat
            .query_assets(&q)
            .await
            .unwrap()
            .assets
            .iter()
            .map(|a| a.asset_id.clone())
            .collect();
        assert_eq!(all.len(), SEEDS.len());
        q.limit = 2;
        let mut paged = Vec::new();
        loop {
            let page = cat.query_assets(&q).await.unwrap();
            assert!(page.assets.len() <= 2);
            paged.extend(page.assets.iter().map(|a| a.asset_id.clone()));
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(paged, all, "{sort:?}");
    }
    // Driven by the tag index: the same order and cursors.
    let mut q = query("tags:sale AND NOT resource_type:video");
    q.sort = vec![(SortField::CreatedAt, Direction::Desc)];
    q.limit = 1;
    q.aggregate = vec![AggregateField::Format];
    let mut paged = Vec::new();
    loop {
        let page = cat.query_assets(&q).await.unwrap();
        assert_eq!(page.total_count, Some(3));
        assert_eq!(
            page.aggregations[0].1,
            vec![("jpg".into(), 2), ("".into(), 1)]
        );
        paged.extend(page.assets.iter().map(|a| a.loc.public_id.to_string()));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        paged,
        ["docs/manual.pdf", "shop/hats/cap", "shop/shoes/red"]
    );
    // An OR of tags pages from the tag index (one prefix per tag): the same
    // pages, in both directions, as the general plan (which the filename
    // term forces), with assets carrying several of the tags counted once.
    for dir in [Direction::Desc, Direction::Asc] {
        let tags = "tags:sale OR tags:shoes OR tags:homepage";
        let mut general = query(&format!("({tags}) AND NOT filename:zzzz"));
        general.sort = vec![(SortField::CreatedAt, dir)];
        let want: Vec<String> = cat
            .query_assets(&general)
            .await
            .unwrap()
            .assets
            .iter()
            .map(|a| a.loc.public_id.to_string())
            .collect();
        assert_eq!(want.len(), 5, "{want:?}");
        let mut q = query(tags);
        q.sort = vec![(SortField::CreatedAt, dir)];
        q.limit = 1;
        let mut paged = Vec::new();
        loop {
            let page = cat.query_assets(&q).await.unwrap();
            assert_eq!(page.total_count, Some(5));
            paged.extend(page.assets.iter().map(|a| a.loc.public_id.to_string()));
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(paged, want, "{dir:?}");
    }
    let mut q = query("");
    q.sort = vec![(SortField::CreatedAt, Direction::Desc)];
    let newest = cat.query_assets(&q).await.unwrap();
    assert_eq!(newest.assets[0].loc.public_id.as_str(), "Shop/Upper");
    q.resource_type = Some(ResourceType::Raw);
    assert_eq!(cat.query_assets(&q).await.unwrap().assets.len(), 1);
}

async fn aggregations(cat: &dyn Catalog) {
    let mut q = query("resource_type:image");
    q.aggregate = vec![AggregateField::Format, AggregateField::Tags];
    let page = cat.query_assets(&q).await.unwrap();
    assert_eq!(
        page.aggregations[0],
        (
            AggregateField::Format,
            vec![
                ("jpg".into(), 2),
                ("gif".into(), 1),
                ("png".into(), 1),
                ("webp".into(), 1)
            ]
        )
    );
    assert_eq!(
        page.aggregations[1],
        (
            AggregateField::Tags,
            vec![
                ("sale".into(), 2),
                ("shoes".into(), 2),
                ("hats".into(), 1),
                ("homepage".into(), 1)
            ]
        )
    );
}

async fn folders(cat: &dyn Catalog) {
    let names = |v: Vec<FolderRecord>| v.into_iter().map(|f| f.path).collect::<Vec<_>>();
    assert_eq!(
        names(cat.subfolders(&cloud(), "").await.unwrap()),
        ["Shop", "docs", "shop"]
    );
    assert_eq!(
        names(cat.subfolders(&cloud(), "shop").await.unwrap()),
        ["shop/hats", "shop/shoes"]
    );
    assert_eq!(
        cat.create_folder(&cloud(), "empty/inner", 1).await.unwrap(),
        Created::New
    );
    assert_eq!(
        cat.create_folder(&cloud(), "empty/inner", 1).await.unwrap(),
        Created::AlreadyExisted
    );
    assert!(cat.folder_exists(&cloud(), "empty").await.unwrap());
    assert_eq!(
        cat.delete_folder(&cloud(), "shop").await.unwrap(),
        FolderDelete::NotEmpty
    );
    assert_eq!(
        cat.delete_folder(&cloud(), "nope").await.unwrap(),
        FolderDelete::Missing
    );
    assert_eq!(
        cat.delete_folder(&cloud(), "empty").await.unwrap(),
        FolderDelete::Deleted(vec!["empty/inner".into(), "empty".into()])
    );
    assert!(!cat.folder_exists(&cloud(), "empty").await.unwrap());
}

async fn tags_usage_and_types(cat: &dyn Catalog) {
    let img = ResourceType::Image;
    assert_eq!(
        cat.list_tags(&cloud(), img, "", None, 10).await.unwrap(),
        ["hats", "homepage", "sale", "shoes"]
    );
    assert_eq!(
        cat.list_tags(&cloud(), img, "h", None, 10).await.unwrap(),
        ["hats", "homepage"]
    );
    assert_eq!(
        cat.list_tags(&cloud(), img, "", Some("hats"), 2)
            .await
            .unwrap(),
        ["homepage", "sale"]
    );
    assert_eq!(
        cat.list_tags(&cloud(), ResourceType::Raw, "", None, 10)
            .await
            .unwrap(),
        ["sale"]
    );
    assert_eq!(
        cat.resource_types(&cloud()).await.unwrap(),
        [ResourceType::Image, ResourceType::Raw]
    );
    let usage = cat.usage(&cloud()).await.unwrap();
    assert_eq!(usage.assets, 6);
    assert_eq!(
        usage.asset_bytes,
        SEEDS.iter().map(|s| s.bytes).sum::<i64>()
    );
}

async fn derived_ids_and_updates(cat: &dyn Catalog) {
    let asset = cat
        .asset(&at(ResourceType::Image, "home"))
        .await
        .unwrap()
        .unwrap();
    let row = Derived {
        id: String::new(),
        asset_id: asset.asset_id.clone(),
        asset_version: asset.version,
        cache_key: "w_10|webp".into(),
        transformation: "w_10".into(),
        format: "webp".into(),
        bytes: 3,
        width: 10,
        height: 5,
        blob_key: asset.blob_key.clone(),
        created_at: 1,
    };
    let stored = cat.put_derived(&row).await.unwrap();
    assert_eq!(stored.id.len(), 32, "the catalog gives derived files ids");
    let found = cat
        .derived_by_ids(&cloud(), &[stored.id.clone(), "unknown".into()])
        .await
        .unwrap();
    assert_eq!(found, vec![stored.clone()]);
    let other = CloudName::parse("other").unwrap();
    assert!(cat
        .derived_by_ids(&other, std::slice::from_ref(&stored.id))
        .await
        .unwrap()
        .is_empty());
    let usage = cat.usage(&cloud()).await.unwrap();
    assert_eq!((usage.derived, usage.derived_bytes), (1, 3));
    assert_eq!(
        cat.delete_derived_rows(std::slice::from_ref(&stored.id))
            .await
            .unwrap(),
        vec![asset.blob_key.clone()]
    );
    assert!(cat.list_derived(&asset.asset_id).await.unwrap().is_empty());

    let mut meta = serde_json::Map::new();
    meta.insert("face_coordinates".into(), serde_json::json!([[1, 2, 3, 4]]));
    let edit = AssetEdit::Replace {
        tags: Some(Tags::parse_csv("fresh").unwrap()),
        context: Some(Context::parse("caption=hi").unwrap()),
    };
    let updated = cat
        .update_asset(&at(ResourceType::Image, "home"), &edit, &meta, 9)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.tags.as_slice(), ["fresh"]);
    assert_eq!(
        updated.meta["face_coordinates"],
        serde_json::json!([[1, 2, 3, 4]])
    );
    assert_eq!(
        ids(cat, "tags:fresh AND context.caption=hi").await,
        ["home"]
    );
    assert!(ids(cat, "tags:homepage").await.is_empty());
    meta.insert("face_coordinates".into(), serde_json::Value::Null);
    let cleared = cat
        .update_asset(
            &at(ResourceType::Image, "home"),
            &AssetEdit::RemoveAllTags,
            &meta,
            10,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(!cleared.meta.contains_key("face_coordinates") && cleared.tags.is_empty());
    assert!(cat
        .update_asset(&at(ResourceType::Image, "missing"), &edit, &meta, 10)
        .await
        .unwrap()
        .is_none());
}

async fn metadata(cat: &dyn Catalog) {
    let def = |id: &str| serde_json::json!({ "external_id": id, "type": "string" });
    assert_eq!(
        cat.put_metadata_field(&cloud(), "sku", &def("sku"), 1)
            .await
            .unwrap(),
        Created::New
    );
    assert_eq!(
        cat.put_metadata_field(&cloud(), "n", &def("n"), 2)
            .await
            .unwrap(),
        Created::New
    );
    let mut changed = def("sku");
    changed["label"] = "SKU".into();
    assert_eq!(
        cat.put_metadata_field(&cloud(), "sku", &changed, 3)
            .await
            .unwrap(),
        Created::AlreadyExisted
    );
    let fields = cat.metadata_fields(&cloud()).await.unwrap();
    assert_eq!(
        fields,
        vec![changed, def("n")],
        "creation order, updates in place"
    );

    let mut values = serde_json::Map::new();
    values.insert(
        METADATA_KEY.into(),
        serde_json::json!({ "sku": "AB-1", "n": 12, "colors": ["red", "blue"] }),
    );
    let loc = at(ResourceType::Image, "shop/hats/cap");
    cat.update_asset(&loc, &AssetEdit::RemoveAllContext, &values, 20)
        .await
        .unwrap()
        .unwrap();
    for (expr, want) in [
        ("metadata.sku=AB-1", true),
        ("metadata.sku:AB*", true),
        ("metadata.n>10", true),
        ("metadata.n<10", false),
        ("metadata.n:[12 TO 13]", true),
        ("metadata.colors=blue", true),
        ("metadata.colors=green", false),
        ("NOT metadata.sku=AB-1 AND folder=shop/hats", false),
    ] {
        let got = ids(cat, expr).await;
        assert_eq!(got == ["shop/hats/cap"], want, "{expr}: {got:?}");
    }
    assert!(cat.delete_metadata_field(&cloud(), "sku").await.unwrap());
    assert!(!cat.delete_metadata_field(&cloud(), "sku").await.unwrap());
    let asset = cat.asset(&loc).await.unwrap().unwrap();
    assert_eq!(
        asset.meta[METADATA_KEY],
        serde_json::json!({ "n": 12, "colors": ["red", "blue"] })
    );
    assert!(ids(cat, "metadata.sku=AB-1").await.is_empty());
    assert_eq!(ids(cat, "metadata.n=12").await, ["shop/hats/cap"]);
}

async fn folder_renames(cat: &dyn Catalog) {
    assert_eq!(
        cat.rename_folder(&cloud(), "nope", "x", 40).await.unwrap(),
        FolderRename::Missing
    );
    assert_eq!(
        cat.rename_folder(&cloud(), "shop/shoes", "footwear", 40)
            .await
            .unwrap(),
        FolderRename::Renamed { assets: 2 }
    );
    assert_eq!(
        ids(cat, "folder:footwear").await,
        ["footwear/blue", "footwear/red"]
    );
    assert!(ids(cat, "folder:shop/shoes").await.is_empty());
    assert_eq!(
        ids(cat, "tags:shoes").await,
        ["footwear/blue", "footwear/red"]
    );
    assert_eq!(ids(cat, "context.alt=\"red shoe\"").await, ["footwear/red"]);
    assert!(cat.folder_exists(&cloud(), "footwear").await.unwrap());
    assert!(!cat.folder_exists(&cloud(), "shop/shoes").await.unwrap());
    // A clash moves nothing.
    let sha = "cd".repeat(32);
    let key = cat
        .pin_blob(&sha, &format!("{sha}.1"), 1, 9_999)
        .await
        .unwrap();
    let clash = NewAsset {
        loc: at(ResourceType::Image, "dup/red"),
        format: Some("png".into()),
        bytes: 1,
        width: Some(1),
        height: Some(1),
        pages: None,
        etag: "e".repeat(32),
        original_filename: None,
        tags: Tags::default(),
        context: Context::default(),
        meta: Default::default(),
        blob_key: key,
        now: 50,
    };
    cat.commit_asset(clash, OverwritePolicy::Replace)
        .await
        .unwrap();
    assert_eq!(
        cat.rename_folder(&cloud(), "footwear", "dup", 41)
            .await
            .unwrap(),
        FolderRename::TargetExists("dup/red".into())
    );
    assert_eq!(
        ids(cat, "folder:footwear").await,
        ["footwear/blue", "footwear/red"]
    );
    assert!(cat
        .delete_asset(&at(ResourceType::Image, "dup/red"))
        .await
        .unwrap()
        .is_some());
}

async fn chunk_sessions(cat: &dyn Catalog) {
    let s = ChunkSession {
        cloud: cloud(),
        owner: "key1".into(),
        upload_id: "abc123".into(),
    };
    let part = |first: i64, last: i64, key: &str| ChunkPart {
        first,
        last,
        blob_key: key.into(),
    };
    let stored = |o: ChunkOutcome| match o {
        ChunkOutcome::Stored {
            received,
            total,
            replaced_blob,
            parts,
        } => (received, total, replaced_blob, parts.map(|p| p.len())),
        ChunkOutcome::Inconsistent(why) => panic!("{why}"),
    };
    // Node style: the total only on the last chunk, which here arrives first.
    assert_eq!(
        stored(
            cat.put_chunk(&s, &part(10, 14, "k3"), Some(15), 1)
                .await
                .unwrap()
        ),
        (5, Some(15), None, None)
    );
    assert_eq!(
        stored(cat.put_chunk(&s, &part(0, 4, "k1"), None, 2).await.unwrap()),
        (10, Some(15), None, None)
    );
    // A chunk sent twice replaces the first copy.
    assert_eq!(
        stored(
            cat.put_chunk(&s, &part(0, 4, "k1b"), None, 3)
                .await
                .unwrap()
        ),
        (10, Some(15), Some("k1".into()), None)
    );
    for (bad, total) in [
        (part(3, 7, "x"), None),
        (part(5, 9, "x"), Some(16)),
        (part(15, 19, "x"), None),
    ] {
        assert!(
            matches!(
                cat.put_chunk(&s, &bad, total, 4).await.unwrap(),
                ChunkOutcome::Inconsistent(_)
            ),
            "{bad:?} {total:?}"
        );
    }
    let done = cat
        .put_chunk(&s, &part(5, 9, "k2"), Some(15), 5)
        .await
        .unwrap();
    let ChunkOutcome::Stored {
        parts: Some(parts), ..
    } = done
    else {
        panic!("{done:?}")
    };
    assert_eq!(
        parts
            .iter()
            .map(|p| p.blob_key.as_str())
            .collect::<Vec<_>>(),
        ["k1b", "k2", "k3"],
        "in file order"
    );
    let other = ChunkSession {
        upload_id: "other".into(),
        ..s.clone()
    };
    cat.put_chunk(&other, &part(0, 0, "k9"), None, 100)
        .await
        .unwrap();
    assert_eq!(
        cat.stale_chunk_sessions(50, 10).await.unwrap(),
        vec![s.clone()]
    );
    let mut keys = cat.delete_chunk_session(&s).await.unwrap();
    keys.sort();
    assert_eq!(keys, ["k1b", "k2", "k3"]);
    assert_eq!(cat.stale_chunk_sessions(50, 10).await.unwrap(), vec![]);
    assert_eq!(cat.delete_chunk_session(&other).await.unwrap(), ["k9"]);
}
