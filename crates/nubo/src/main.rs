//! `nubo`: the binary. It loads configuration ([`config`]), wires the
//! adapters chosen there into a [`nubo_service::Service`] ([`wiring`]) and
//! runs a subcommand ([`cli`]): `serve`, `config`, `cloud`, `key`, `token`,
//! `preset`, `transformation`, `gc`, and `admin` ([`admin_cli`]), which
//! talks to a running server's Admin API.
#![forbid(unsafe_code)]

mod admin_cli;
mod cli;
mod config;
mod wiring;

use clap::Parser;

/// mimalloc, not glibc's malloc: a cached delivery makes a dozen small
/// allocations in hyper and http per request, and glibc's showed as 8% of
/// the server's cycles in `perf` (free-list consolidation included).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(cli::run(args))
}
