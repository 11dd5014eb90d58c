//! A short-lived, in-process cache of resolved deliveries, so a cached
//! derived file is served without a catalog round trip.
//!
//! Correctness: every write this process makes bumps a generation, and an
//! entry from an older generation is a miss, so this node never serves
//! what it has itself replaced or deleted. Writes by other nodes (or the
//! CLI) are seen within [`TTL`]; unversioned URLs are cacheable by clients
//! for an hour anyway, and versioned ones never change.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::deliver::Delivery;

pub(crate) const TTL: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 50_000;
/// Files up to this size are kept in memory with their entry…
pub(crate) const INLINE_MAX: usize = 256 * 1024;
/// …within this budget for all entries together.
const INLINE_BUDGET: usize = 64 * 1024 * 1024;

#[derive(Default)]
pub(crate) struct HotDeliveries {
    generation: AtomicU64,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, (u64, Instant, Arc<Delivery>)>,
    inline_bytes: usize,
}

impl HotDeliveries {
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A hit is shared, not copied: the hot path allocates nothing here.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<Delivery>> {
        let now = Instant::now();
        let generation = self.generation();
        let entries = self.entries.lock().expect("hot cache");
        match entries.map.get(key) {
            Some((g, at, d)) if *g == generation && now.duration_since(*at) < TTL => {
                Some(Arc::clone(d))
            }
            _ => None,
        }
    }

    /// Stores what was resolved under `generation`, the value read before
    /// the lookup began: a write in between makes the entry stale at once.
    pub(crate) fn put(&self, key: String, generation: u64, d: Arc<Delivery>) {
        let mut entries = self.entries.lock().expect("hot cache");
        let size = d.inline_len();
        if entries.map.len() >= MAX_ENTRIES || entries.inline_bytes + size > INLINE_BUDGET {
            // Crude but bounded: start over rather than track recency.
            entries.map.clear();
            entries.inline_bytes = 0;
        }
        entries.inline_bytes += size;
        if let Some((_, _, old)) = entries.map.insert(key, (generation, Instant::now(), d)) {
            entries.inline_bytes -= old.inline_len().min(entries.inline_bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(inline: usize) -> Arc<Delivery> {
        Arc::new(Delivery::for_tests(inline))
    }

    #[test]
    fn a_local_write_invalidates_and_the_budget_bounds_memory() {
        let hot = HotDeliveries::default();
        let g = hot.generation();
        hot.put("a".into(), g, delivery(10));
        assert!(hot.get("a").is_some());
        hot.invalidate();
        assert!(
            hot.get("a").is_none(),
            "entries of an older generation are misses"
        );
        // A render that began before the write stores under its old
        // generation, so it is never served.
        hot.put("b".into(), g, delivery(10));
        assert!(hot.get("b").is_none());
        let g = hot.generation();
        for i in 0..(INLINE_BUDGET / INLINE_MAX + 2) {
            hot.put(format!("k{i}"), g, delivery(INLINE_MAX));
            let used = hot.entries.lock().unwrap().inline_bytes;
            assert!(used <= INLINE_BUDGET, "{used} bytes held");
        }
    }
}
