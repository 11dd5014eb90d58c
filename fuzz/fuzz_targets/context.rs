//! Context strings (`k=v|k2=v2` with backslash escapes).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(ctx) = nubo_core::Context::parse(data) {
        assert!(ctx.0.keys().all(|k| !k.trim().is_empty()));
    }
});
