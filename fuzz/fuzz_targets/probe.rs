//! Uploaded bytes through the media probe: it must answer, never panic,
//! never allocate more than its limits allow.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubo_engine::{probe_reader, Probe, ProbeLimits};

fuzz_target!(|data: &[u8]| {
    let limits = ProbeLimits {
        max_pixels: 100_000_000,
        max_frames: 1000,
    };
    if let Ok(Probe::Image(info)) = probe_reader(&mut std::io::Cursor::new(data), limits) {
        assert!(info.width > 0 && info.height > 0);
        assert!(u64::from(info.width) * u64::from(info.height) <= limits.max_pixels);
        assert!((1..=8).contains(&info.orientation));
    }
});
