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
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::deliver::Delivery;

pub(crate) const TTL: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 50_000;

#[derive(Default)]
pub(crate) struct HotDeliveries {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (u64, Instant, Delivery)>>,
}

impl HotDeliveries {
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn get(&self, key: &str) -> Option<Delivery> {
        let now = Instant::now();
        let generation = self.generation();
        let map = self.entries.lock().expect("hot cache");
        match map.get(key) {
            Some((g, at, d)) if *g == generation && now.duration_since(*at) < TTL => {
                Some(d.clone())
            }
            _ => None,
        }
    }

    /// Stores what was resolved under `generation`, the value read before
    /// the lookup began: a write in between makes the entry stale at once.
    pub(crate) fn put(&self, key: String, generation: u64, d: Delivery) {
        let mut map = self.entries.lock().expect("hot cache");
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (generation, Instant::now(), d));
    }
}
