//! The catalog conformance suite on PostgreSQL (SQLite runs it as a unit
//! test), in a fresh schema per run. PostgreSQL must be reachable: the test
//! command starts it; set NUBO_TEST_DATABASE_URL to use another server.

use nubo_catalog::SqlCatalog;

pub fn pg_url() -> String {
    std::env::var("NUBO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[tokio::test]
async fn postgres_passes_the_catalog_conformance_suite() {
    let schema = format!("nubo_test_{}", nubo_core::random_id(10));
    let cat = SqlCatalog::connect(&pg_url(), Some(&schema))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {} is required (scripts/test.sh starts it): {e}",
                pg_url()
            )
        });
    nubo_catalog::testkit::run_all(&cat).await;
    // Migrations are idempotent across nodes.
    SqlCatalog::connect(&pg_url(), Some(&schema)).await.unwrap();
    cat.drop_schema(&schema).await.unwrap();
}

#[tokio::test]
async fn fs_blob_store_passes_the_blob_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = nubo_blob::FsBlobStore::open(dir.path()).unwrap();
    nubo_blob::testkit::run_all(&store).await;
}

/// Two catalogs on one schema stand for two Nubo nodes: their claims run
/// at the same time on separate connection pools, and no job is taken twice.
#[tokio::test]
async fn two_nodes_on_postgres_share_the_job_queue() {
    use nubo_catalog::{JobQueue, NewJob};
    let schema = format!("nubo_test_{}", nubo_core::random_id(10));
    let a = SqlCatalog::connect(&pg_url(), Some(&schema)).await.unwrap();
    let b = SqlCatalog::connect(&pg_url(), Some(&schema)).await.unwrap();
    const N: usize = 300;
    for i in 0..N {
        a.enqueue_job(&NewJob {
            id: format!("j{i:04}"),
            cloud: nubo_core::CloudName::parse("two").unwrap(),
            kind: "test".into(),
            payload: serde_json::json!({}),
            run_at_ms: 0,
            max_attempts: 3,
            now_ms: 0,
            claimed: None,
        })
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for (n, cat) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let owner = format!("node{n}");
            let mut mine = Vec::new();
            loop {
                let got = cat.claim_jobs(&owner, 1, 60_000, 4).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut per_worker = Vec::new();
    let mut all = Vec::new();
    for t in tasks {
        let ids = t.await.unwrap();
        per_worker.push(ids.len());
        all.extend(ids);
    }
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(claimed, N, "claims per worker: {per_worker:?}");
    assert_eq!(all.len(), N);
    a.drop_schema(&schema).await.unwrap();
}
