//! Delivery paths: parsing must not panic, and what it accepts is consistent.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(url) = nubo_service::deliver::parse_delivery_url(data) {
        assert!(!url.tail.is_empty());
        assert!(url.signed_text.len() <= data.len());
        if let Some(sig) = &url.signature {
            assert!(sig.len() == 8 || sig.len() == 32);
        }
    }
});
