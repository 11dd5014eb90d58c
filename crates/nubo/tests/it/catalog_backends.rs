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
