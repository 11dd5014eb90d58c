//! A short-lived, in-process cache of resolved deliveries, so a cached
//! derived file is served without a catalog round trip.
//!
//! Entries are keyed by the request path exactly as it arrived, plus the
//! client hints a response may vary on, so a hit costs one hash lookup:
//! no URL parsing and no allocation. Two spellings of one URL (say, with
//! and without percent-escapes) are two entries for the same delivery.
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
use nubo_transform::ClientHints;

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
    /// Path → one variant per set of client hints seen for it.
    map: HashMap<String, Vec<Variant>>,
    variants: usize,
    inline_bytes: usize,
}

struct Variant {
    hints: HintKey,
    generation: u64,
    at: Instant,
    delivery: Arc<Delivery>,
}

/// The part of [`ClientHints`] a delivery can depend on; `dpr_auto`
/// rounds the device pixel ratio up, so only that integer matters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct HintKey {
    avif: bool,
    webp: bool,
    dpr: Option<u32>,
}

impl From<&ClientHints> for HintKey {
    fn from(h: &ClientHints) -> HintKey {
        HintKey {
            avif: h.accepts_avif,
            webp: h.accepts_webp,
            // Saturating: absurd ratios are clamped by the plan anyway.
            dpr: h.dpr.map(|d| d.ceil() as u32),
        }
    }
}

impl HotDeliveries {
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A hit is shared, not copied: the hot path allocates nothing here.
    pub(crate) fn get(&self, path: &str, hints: &ClientHints) -> Option<Arc<Delivery>> {
        let now = Instant::now();
        let generation = self.generation();
        let hints = HintKey::from(hints);
        let entries = self.entries.lock().expect("hot cache");
        entries
            .map
            .get(path)?
            .iter()
            .find(|v| {
                v.hints == hints && v.generation == generation && now.duration_since(v.at) < TTL
            })
            .map(|v| Arc::clone(&v.delivery))
    }

    /// Stores what was resolved under `generation`, the value read before
    /// the lookup began: a write in between makes the entry stale at once.
    pub(crate) fn put(&self, path: &str, hints: &ClientHints, generation: u64, d: Arc<Delivery>) {
        let mut guard = self.entries.lock().expect("hot cache");
        let entries = &mut *guard;
        let size = d.inline_len();
        if entries.variants >= MAX_ENTRIES || entries.inline_bytes + size > INLINE_BUDGET {
            // Crude but bounded: start over rather than track recency.
            entries.map.clear();
            entries.variants = 0;
            entries.inline_bytes = 0;
        }
        let hints = HintKey::from(hints);
        let variants = entries.map.entry(path.to_owned()).or_default();
        if let Some(i) = variants.iter().position(|v| v.hints == hints) {
            let old = variants.swap_remove(i);
            entries.variants -= 1;
            entries.inline_bytes -= old.delivery.inline_len().min(entries.inline_bytes);
        }
        variants.push(Variant {
            hints,
            generation,
            at: Instant::now(),
            delivery: d,
        });
        entries.variants += 1;
        entries.inline_bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(inline: usize) -> Arc<Delivery> {
        Arc::new(Delivery::for_tests(inline))
    }

    fn hints(avif: bool, dpr: Option<f64>) -> ClientHints {
        ClientHints {
            accepts_avif: avif,
            accepts_webp: true,
            dpr,
        }
    }

    #[test]
    fn a_local_write_invalidates_and_the_budget_bounds_memory() {
        let hot = HotDeliveries::default();
        let plain = hints(false, None);
        let g = hot.generation();
        hot.put("a", &plain, g, delivery(10));
        assert!(hot.get("a", &plain).is_some());
        hot.invalidate();
        assert!(
            hot.get("a", &plain).is_none(),
            "entries of an older generation are misses"
        );
        // A render that began before the write stores under its old
        // generation, so it is never served.
        hot.put("b", &plain, g, delivery(10));
        assert!(hot.get("b", &plain).is_none());
        let g = hot.generation();
        for i in 0..(INLINE_BUDGET / INLINE_MAX + 2) {
            hot.put(&format!("k{i}"), &plain, g, delivery(INLINE_MAX));
            let used = hot.entries.lock().unwrap().inline_bytes;
            assert!(used <= INLINE_BUDGET, "{used} bytes held");
        }
    }

    #[test]
    fn each_set_of_client_hints_is_its_own_variant() {
        let hot = HotDeliveries::default();
        let g = hot.generation();
        let (jpeg, avif) = (delivery(1), delivery(2));
        hot.put("p", &hints(false, None), g, Arc::clone(&jpeg));
        hot.put("p", &hints(true, None), g, Arc::clone(&avif));
        let got = |h: &ClientHints| hot.get("p", h).map(|d| d.inline_len());
        assert_eq!(got(&hints(false, None)), Some(1));
        assert_eq!(got(&hints(true, None)), Some(2));
        assert_eq!(got(&hints(false, Some(2.0))), None, "another DPR misses");
        // DPR is rounded up as dpr_auto rounds it: 1.5 and 2 are one variant.
        hot.put("p", &hints(false, Some(1.5)), g, delivery(3));
        assert_eq!(got(&hints(false, Some(2.0))), Some(3));
        // Storing a variant again replaces it instead of piling up.
        hot.put("p", &hints(true, None), g, delivery(4));
        assert_eq!(got(&hints(true, None)), Some(4));
        let entries = hot.entries.lock().unwrap();
        assert_eq!(entries.variants, 3);
        assert_eq!(entries.inline_bytes, 1 + 3 + 4);
    }
}
