//! Admin API query latency on a large catalog: seeds N assets with
//! realistic folders, tags, context and dates, then times listings by
//! prefix and tag and five search expressions through `Catalog::query_assets`
//! (the exact queries the Admin API runs), printing p50/p95.
//!
//! Usage: catalog_bench sqlite:PATH | postgres://… [assets, default 1000000]
//! (bench/catalog.sh runs it on both backends.)

use std::time::Instant;

use nubo_catalog::{AssetQuery, Catalog, SqlCatalog};
use nubo_core::search::{parse, Direction, SortField};
use nubo_core::{CloudName, ResourceType};
use rand::{Rng, SeedableRng};
use sqlx::Executor;

const FOLDERS: usize = 2000;
const TAGS: usize = 5000;
const BATCH: usize = 500;

/// A tag drawn with a Zipf-like skew: a few tags are on many assets.
fn tag(rng: &mut impl Rng) -> usize {
    let u: f64 = rng.gen_range(0.0f64..1.0);
    ((TAGS as f64).powf(u) as usize)
        .saturating_sub(1)
        .min(TAGS - 1)
}

fn folder_of(i: usize) -> String {
    match i % 3 {
        0 => format!("users/u{}", i % FOLDERS),
        1 => format!("products/cat{}/sku{}", i % 100, i % FOLDERS),
        _ => format!("blog/{}/{}", 2020 + i % 5, i % 12),
    }
}

async fn seed(url: &str, schema: Option<&str>, n: usize) -> anyhow::Result<()> {
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .after_connect({
            let schema = schema.map(str::to_owned);
            move |conn, _| {
                let schema = schema.clone();
                Box::pin(async move {
                    if let Some(s) = schema {
                        conn.execute(format!("SET search_path TO \"{s}\"").as_str())
                            .await?;
                    }
                    Ok(())
                })
            }
        })
        .connect(url)
        .await?;
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        pool.execute("PRAGMA synchronous=OFF").await?;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let now = nubo_core_now();
    let formats = ["jpg", "jpg", "jpg", "png", "png", "webp", "gif"];
    let mut done = 0;
    while done < n {
        let mut assets = Vec::new();
        let mut tags = Vec::new();
        let mut ctx = Vec::new();
        for i in done..(done + BATCH).min(n) {
            let folder = folder_of(i);
            let id = format!("{folder}/img{i}");
            let created = now - rng.gen_range(0..2 * 365 * 86_400);
            let w: i64 = rng.gen_range(100..6000);
            let h: i64 = rng.gen_range(100..4000);
            let bytes: i64 = (w * h) / rng.gen_range(2..12);
            let fmt = formats[rng.gen_range(0..formats.len())];
            let mut t: Vec<String> = (0..rng.gen_range(0..5))
                .map(|_| format!("tag{}", tag(&mut rng)))
                .collect();
            t.sort();
            t.dedup();
            let mut c = serde_json::Map::new();
            if rng.gen_bool(0.5) {
                c.insert("alt".into(), format!("photo {}", i % 977).into());
            }
            if rng.gen_bool(0.2) {
                c.insert("sku".into(), format!("SKU{}", i % 50_000).into());
            }
            let created_us = created * 1_000_000 + (i as i64 % 1_000_000);
            let bits = nubo_catalog::tag_bits(t.iter().map(String::as_str));
            for tg in &t {
                tags.push(format!(
                    "('bench','image','upload','{id}','{tg}',{created_us},'{fmt}',{bytes},{w},{h},{bits})"
                ));
            }
            for (k, v) in &c {
                ctx.push(format!(
                    "('bench','image','upload','{id}','{k}','{}')",
                    v.as_str().unwrap()
                ));
            }
            let name = format!("img{i}");
            assets.push(format!(
                "('bench','image','upload','{id}','a{i:031}',{created},'v','{fmt}',{bytes},{w},{h},1,'e','[{}]','{}','{{}}','k{i}',{created},{created},{},'{folder}','{name}')",
                t.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(","),
                serde_json::Value::Object(c),
                created_us,
            ));
        }
        let mut tx = pool.begin().await?;
        tx.execute(format!(
            "INSERT INTO assets (cloud, resource_type, delivery_type, public_id, asset_id, version, \
             version_id, format, bytes, width, height, pages, etag, tags, context, meta, blob_key, \
             created_at, updated_at, created_at_us, folder, filename) VALUES {}",
            assets.join(",")
        ).as_str()).await?;
        if !tags.is_empty() {
            tx.execute(format!("INSERT INTO asset_tags (cloud, resource_type, delivery_type, public_id, tag, created_at_us, format, bytes, width, height, tag_bits) VALUES {}", tags.join(",")).as_str()).await?;
        }
        if !ctx.is_empty() {
            tx.execute(format!("INSERT INTO asset_context (cloud, resource_type, delivery_type, public_id, ctx_key, ctx_value) VALUES {}", ctx.join(",")).as_str()).await?;
        }
        tx.commit().await?;
        done += BATCH;
        if done % 100_000 == 0 {
            eprintln!("  seeded {done}");
        }
    }
    // Planner statistics and the visibility map, as a long-running
    // database has them (autovacuum); VACUUM runs outside a transaction.
    if sqlite {
        pool.execute("ANALYZE").await?;
    } else {
        for t in ["assets", "asset_tags", "asset_context"] {
            pool.execute(format!("VACUUM ANALYZE {t}").as_str()).await?;
        }
    }
    Ok(())
}

fn nubo_core_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn query(expr: &str, rt: bool, total: bool) -> AssetQuery {
    AssetQuery {
        cloud: CloudName::parse("bench").unwrap(),
        resource_type: rt.then_some(ResourceType::Image),
        delivery_type: None,
        expr: parse(expr).unwrap(),
        sort: vec![(SortField::CreatedAt, Direction::Desc)],
        limit: if total { 50 } else { 10 },
        cursor: None,
        with_total: total,
        aggregate: vec![],
        now: nubo_core_now(),
    }
}

async fn time(
    cat: &dyn Catalog,
    label: &str,
    reps: usize,
    mut make: impl FnMut(usize) -> AssetQuery,
) -> anyhow::Result<()> {
    let mut ms = Vec::new();
    let mut found = 0;
    for i in 0..reps {
        let q = make(i);
        let t = Instant::now();
        let page = cat.query_assets(&q).await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        found += page.assets.len();
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    println!(
        "| {label} | {:.1} | {:.1} | {:.1} | {:.1} |",
        p(0.5),
        p(0.95),
        ms[ms.len() - 1],
        found as f64 / reps as f64
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("a database URL");
    let n: usize = args.next().map_or(1_000_000, |s| s.parse().unwrap());
    // NUBO_BENCH_SCHEMA keeps a seeded PostgreSQL schema (and an existing
    // SQLite file is reused) so query changes can be measured again quickly.
    let kept = std::env::var("NUBO_BENCH_SCHEMA").ok();
    let schema = url.starts_with("postgres").then(|| {
        kept.clone()
            .unwrap_or_else(|| format!("nubo_bench_{}", nubo_core::random_id(6)))
    });
    let cat = SqlCatalog::connect(&url, schema.as_deref()).await?;
    let mut q = query("", false, true);
    q.limit = 1;
    let have = cat.query_assets(&q).await?.total_count.unwrap_or(0) as usize;
    if have < n {
        let t = Instant::now();
        seed(&url, schema.as_deref(), n).await?;
        println!("seeded {n} assets in {:.0} s", t.elapsed().as_secs_f64());
    } else {
        println!("reusing {have} seeded assets");
    }
    println!("| query | p50 ms | p95 ms | max ms | results/page |");
    println!("| --- | --- | --- | --- | --- |");
    let reps = 100;
    time(&cat, "list by prefix (`users/uN/`)", reps, |i| {
        let mut q = query("", true, false);
        q.expr = parse(&format!("public_id:users/u{}/*", (i * 37) % FOLDERS)).unwrap();
        q.delivery_type = Some(nubo_core::DeliveryType::Upload);
        q
    })
    .await?;
    time(&cat, "list by tag (frequent to rare)", reps, |i| {
        query(
            &format!(
                "tags={}",
                ["tag0", "tag3", "tag40", "tag700", "tag4321"][i % 5]
            ),
            true,
            false,
        )
    })
    .await?;
    let exprs = [
        "tags:tag1 AND format:jpg",
        "folder:products/cat7/* AND width>3000",
        "context.sku:SKU12*",
        "created_at>30d AND bytes>1mb",
        "(tags:tag2 OR tags:tag5) AND NOT format:png",
    ];
    for e in exprs {
        time(
            &cat,
            &format!("search `{e}` (+ total_count)"),
            reps / 2,
            |_| query(e, false, true),
        )
        .await?;
    }
    // The same OR search without total_count: what the page itself costs.
    time(
        &cat,
        "search `(tags:tag2 OR tags:tag5) AND NOT format:png` (page only)",
        reps / 2,
        |_| query("(tags:tag2 OR tags:tag5) AND NOT format:png", false, false),
    )
    .await?;
    if let (Some(s), None) = (schema, kept) {
        cat.drop_schema(&s).await?;
    }
    Ok(())
}
