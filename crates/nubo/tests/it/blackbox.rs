//! Black-box SDK tests (next).
