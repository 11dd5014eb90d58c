//! Search API expressions: any input parses or is refused, never panics,
//! and what parses stays within the term and depth limits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nubo_core::search::{parse, Expr};

fn measure(e: &Expr, depth: usize) -> (usize, usize) {
    match e {
        Expr::And(items) | Expr::Or(items) => items
            .iter()
            .map(|i| measure(i, depth + 1))
            .fold((0, depth), |(t, d), (t2, d2)| (t + t2, d.max(d2))),
        Expr::Not(inner) => measure(inner, depth + 1),
        Expr::Term(_) => (1, depth),
    }
}

fuzz_target!(|data: &str| {
    if let Ok(Some(e)) = parse(data) {
        let (terms, depth) = measure(&e, 0);
        assert!(terms <= 200, "{terms} terms");
        assert!(depth <= 200, "depth {depth}");
        assert_eq!(parse(data).unwrap(), Some(e), "parsing is deterministic");
    }
});
