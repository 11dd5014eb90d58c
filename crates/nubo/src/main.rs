//! `nubo`: the binary. It loads configuration ([`config`]), wires the
//! adapters chosen there into a [`nubo_service::Service`] ([`wiring`]) and
//! runs a subcommand ([`cli`]): `serve`, `config`, `cloud`, `key`, `token`,
//! `preset`, `transformation`, `gc`, and `admin` ([`admin_cli`]), which
//! talks to a running server's Admin API.

mod admin_cli;
mod cli;
mod config;
mod wiring;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let args = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(cli::run(args))
}
