//! The conformance suite every [`BlobStore`] adapter must pass.

use futures_util::TryStreamExt;

use crate::{BlobError, BlobKey, BlobStore, ByteRange};

async fn put_bytes(store: &dyn BlobStore, data: &[u8]) -> BlobKey {
    let mut w = store.spool().writer(data.len() as u64).await.unwrap();
    for chunk in data.chunks(7) {
        w.write(bytes::Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    let file = w.finish().await.unwrap();
    let key = BlobKey::new_generation(&file.digest().sha256_hex);
    store.put(&key, file).await.unwrap();
    key
}

async fn read_all(store: &dyn BlobStore, key: &BlobKey, range: Option<ByteRange>) -> Vec<u8> {
    let read = store.open(key, range).await.unwrap();
    let chunks: Vec<_> = read.body.try_collect().await.unwrap();
    chunks.concat()
}

/// Runs every check against `store`.
pub async fn run_all(store: &dyn BlobStore) {
    round_trip_and_digest(store).await;
    ranges(store).await;
    delete_is_idempotent(store).await;
    limit_is_enforced(store).await;
    dropped_spool_files_vanish(store).await;
}

async fn round_trip_and_digest(store: &dyn BlobStore) {
    let data = b"hello, nubo".repeat(1000);
    let key = put_bytes(store, &data).await;
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(read_all(store, &key, None).await, data);
    // sha256 of the content is the key's address
    let mut w = store.spool().writer(u64::MAX).await.unwrap();
    w.write(data.clone()).await.unwrap();
    let f = w.finish().await.unwrap();
    assert_eq!(f.digest().sha256_hex, key.sha256_hex());
    assert_eq!(f.digest().len, data.len() as u64);
    assert_eq!(f.digest().md5_hex.len(), 32);
}

async fn ranges(store: &dyn BlobStore) {
    let data: Vec<u8> = (0..=255u8).collect();
    let key = put_bytes(store, &data).await;
    let part = read_all(store, &key, Some(ByteRange { start: 10, end: 20 })).await;
    assert_eq!(part, &data[10..20]);
    let read = store.open(&key, None).await.unwrap();
    assert_eq!(read.total, 256);
    let bad = store
        .open(
            &key,
            Some(ByteRange {
                start: 10,
                end: 300,
            }),
        )
        .await;
    assert!(matches!(bad, Err(BlobError::BadRange { .. })));
}

async fn delete_is_idempotent(store: &dyn BlobStore) {
    let key = put_bytes(store, b"to be deleted").await;
    store.delete(&key).await.unwrap();
    assert!(!store.exists(&key).await.unwrap());
    store.delete(&key).await.unwrap();
    assert!(matches!(
        store.open(&key, None).await,
        Err(BlobError::NotFound(_))
    ));
}

async fn limit_is_enforced(store: &dyn BlobStore) {
    let mut w = store.spool().writer(4).await.unwrap();
    w.write(&b"1234"[..]).await.unwrap();
    assert!(matches!(
        w.write(&b"5"[..]).await,
        Err(BlobError::TooLarge { limit: 4 })
    ));
}

async fn dropped_spool_files_vanish(store: &dyn BlobStore) {
    let mut w = store.spool().writer(100).await.unwrap();
    w.write(&b"temp"[..]).await.unwrap();
    let f = w.finish().await.unwrap();
    let path = f.path().to_owned();
    assert!(path.exists());
    drop(f);
    assert!(!path.exists());
}
