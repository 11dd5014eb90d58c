//! Request fields through array collapsing and the string to sign.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubo_service::signing::{string_to_sign, verify_request};
use nubo_service::Params;

fuzz_target!(|data: &str| {
    let pairs = data.lines().filter_map(|l| l.split_once('='));
    let params = Params::from_pairs(pairs);
    let fields = params.collapsed();
    let s = string_to_sign("upload", &fields, true);
    assert!(!s.contains('&') || s.split('&').count() <= fields.len());
    assert!(!verify_request("upload", &fields, "0", "secret"));
});
