//! Subcommands.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use nubo_core::CloudName;
use nubo_service::accounts::BootstrapConfig;
use nubo_service::Service;

use crate::config::{RawConfig, Settings};
use crate::wiring::open_service;

#[derive(Parser, Debug)]
#[command(
    name = "nubo",
    version,
    about = "A self-hosted media server that speaks Cloudinary's API"
)]
pub struct Cli {
    /// Configuration file (default: $NUBO_CONFIG, else ./nubo.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where blobs and the SQLite catalog live [env: NUBO_DATA_DIR].
    #[arg(long, global = true)]
    data_dir: Option<String>,
    /// sqlite:PATH or postgres://… [env: NUBO_DATABASE_URL].
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on [env: NUBO_LISTEN].
        #[arg(long)]
        listen: Option<String>,
        /// Base of url/secure_url in responses [env: NUBO_PUBLIC_URL].
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Check or show the effective configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Manage clouds (accounts).
    Cloud {
        #[command(subcommand)]
        action: CloudAction,
    },
    /// Manage API keys of a cloud.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Manage bearer tokens of a cloud.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage upload presets of a cloud.
    Preset {
        #[command(subcommand)]
        action: PresetAction,
    },
    /// Manage named transformations (`t_<name>` in URLs) of a cloud.
    Transformation {
        #[command(subcommand)]
        action: NamedAction,
    },
    /// Delete stored bytes that no asset references any more.
    Gc,
    /// The Admin API of a running server, as CLOUDINARY_URL names it.
    Admin(crate::admin_cli::AdminArgs),
}

#[derive(Subcommand, Debug)]
enum NamedAction {
    /// Create or replace a named transformation.
    Create {
        #[command(flatten)]
        cloud: CloudArg,
        name: String,
        /// The transformation, e.g. c_fill,h_100,w_100/e_sepia
        definition: String,
        /// Usable without a signature when strict transformations are on.
        #[arg(long)]
        allowed_for_strict: bool,
    },
    List {
        #[command(flatten)]
        cloud: CloudArg,
    },
    Delete {
        #[command(flatten)]
        cloud: CloudArg,
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigAction {
    /// Validate the configuration and exit non-zero if it is invalid.
    Check,
    /// Print every setting with its origin; secrets are redacted.
    Dump,
}

#[derive(Subcommand, Debug)]
enum CloudAction {
    /// Create a cloud and its first API key.
    Create {
        name: String,
    },
    List,
    /// Show, set or clear the cloud's global notification URL: uploads and
    /// other calls without their own notification_url notify it.
    NotificationUrl {
        #[command(flatten)]
        cloud: CloudArg,
        /// The URL to set; omit to show the current one.
        url: Option<String>,
        #[arg(long, conflicts_with = "url")]
        clear: bool,
    },
}

#[derive(clap::Args, Debug)]
struct CloudArg {
    /// Cloud name (default: NUBO_CLOUD_NAME, else demo).
    #[arg(long)]
    cloud: Option<String>,
}

#[derive(Subcommand, Debug)]
enum KeyAction {
    Create {
        #[command(flatten)]
        cloud: CloudArg,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    List {
        #[command(flatten)]
        cloud: CloudArg,
    },
    Revoke {
        #[command(flatten)]
        cloud: CloudArg,
        key: String,
    },
}

#[derive(Subcommand, Debug)]
enum TokenAction {
    Create {
        #[command(flatten)]
        cloud: CloudArg,
        #[arg(long, default_value = "cli")]
        label: String,
        /// Lifetime such as 3600s, 15m, 12h or 30d; no expiry when absent.
        #[arg(long)]
        ttl: Option<String>,
    },
    List {
        #[command(flatten)]
        cloud: CloudArg,
    },
    Revoke {
        #[command(flatten)]
        cloud: CloudArg,
        id: String,
    },
}

#[derive(Subcommand, Debug)]
enum PresetAction {
    /// Create or replace a preset.
    Create {
        #[command(flatten)]
        cloud: CloudArg,
        name: String,
        /// Allow unsigned uploads with this preset.
        #[arg(long)]
        unsigned: bool,
        /// Upload parameters the preset sets, as key=value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    List {
        #[command(flatten)]
        cloud: CloudArg,
    },
    Delete {
        #[command(flatten)]
        cloud: CloudArg,
        name: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Admin(args) = cli.command {
        return crate::admin_cli::run(args).await;
    }
    let (listen, public_url) = match &cli.command {
        Command::Serve { listen, public_url } => (listen.clone(), public_url.clone()),
        _ => (None, None),
    };
    let env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("NUBO_"))
        .collect();
    let flags = [
        ("data_dir", cli.data_dir.clone()),
        ("database_url", cli.database_url.clone()),
        ("listen", listen),
        ("public_url", public_url),
    ];
    let raw = RawConfig::load(cli.config.as_deref(), &env, &flags)?;
    let settings = Settings::from_raw(&raw);
    if let Command::Config { action } = &cli.command {
        return match action {
            ConfigAction::Check => {
                let s = settings?;
                println!(
                    "configuration OK: listening on {}, data in {}, public URL {}",
                    s.listen,
                    s.data_dir.display(),
                    s.public_url
                );
                Ok(())
            }
            ConfigAction::Dump => {
                settings?;
                print!("{}", raw.dump());
                Ok(())
            }
        };
    }
    let settings = settings?;
    init_tracing(&settings.log);
    if let Command::Serve { .. } = cli.command {
        return serve(settings).await;
    }
    let service = open_service(&settings).await?;
    let default_cloud = settings.cloud_name.clone();
    let cloud_of = |arg: &CloudArg| -> anyhow::Result<CloudName> {
        match (&arg.cloud, &default_cloud) {
            (Some(c), _) => Ok(CloudName::parse(c)?),
            (None, Some(c)) => Ok(c.clone()),
            (None, None) => Ok(CloudName::parse("demo")?),
        }
    };
    match cli.command {
        Command::Serve { .. } | Command::Config { .. } | Command::Admin(_) => {
            unreachable!("handled above")
        }
        Command::Cloud {
            action: CloudAction::Create { name },
        } => {
            let cred = service.create_cloud(&CloudName::parse(&name)?).await?;
            println!("created cloud {}", cred.cloud);
            println!(
                "CLOUDINARY_URL={}",
                settings.cloudinary_url(&cred.cloud, &cred.key, &cred.secret)
            );
        }
        Command::Cloud {
            action: CloudAction::List,
        } => {
            for c in service.list_clouds().await? {
                println!("{}\tcreated {}", c.name, iso(c.created_at));
            }
        }
        Command::Cloud {
            action: CloudAction::NotificationUrl { cloud, url, clear },
        } => {
            let cloud = cloud_of(&cloud)?;
            if clear {
                service.set_notification_url(&cloud, None).await?;
                println!("cleared the notification URL of {cloud}");
            } else if let Some(u) = url {
                let stored = service.set_notification_url(&cloud, Some(&u)).await?;
                println!(
                    "notifications of {cloud} go to {}",
                    stored.unwrap_or_default()
                );
            } else {
                match service.notification_url(&cloud).await? {
                    Some(u) => println!("{u}"),
                    None => println!("(none)"),
                }
            }
        }
        Command::Key { action } => key(&service, &settings, action, cloud_of).await?,
        Command::Token { action } => token(&service, action, cloud_of).await?,
        Command::Preset { action } => preset(&service, action, cloud_of).await?,
        Command::Transformation { action } => named(&service, action, cloud_of).await?,
        Command::Gc => {
            let n = service.sweep_blobs(nubo_service::now()).await?;
            println!("deleted {n} unreferenced blobs");
        }
    }
    Ok(())
}

async fn key(
    service: &Service,
    settings: &Settings,
    action: KeyAction,
    cloud_of: impl Fn(&CloudArg) -> anyhow::Result<CloudName>,
) -> anyhow::Result<()> {
    match action {
        KeyAction::Create { cloud, label } => {
            let cred = service.create_api_key(&cloud_of(&cloud)?, &label).await?;
            println!("api_key={}\napi_secret={}", cred.key, cred.secret);
            println!(
                "CLOUDINARY_URL={}",
                settings.cloudinary_url(&cred.cloud, &cred.key, &cred.secret)
            );
        }
        KeyAction::List { cloud } => {
            println!("{:<17} {:<12} {:<22} status", "api_key", "label", "created");
            for k in service.list_api_keys(&cloud_of(&cloud)?).await? {
                let status = status(k.revoked_at);
                println!(
                    "{:<17} {:<12} {:<22} {status}",
                    k.key,
                    k.label,
                    iso(k.created_at)
                );
            }
        }
        KeyAction::Revoke { cloud, key } => {
            service.revoke_api_key(&cloud_of(&cloud)?, &key).await?;
            println!("revoked api key {key}");
        }
    }
    Ok(())
}

async fn token(
    service: &Service,
    action: TokenAction,
    cloud_of: impl Fn(&CloudArg) -> anyhow::Result<CloudName>,
) -> anyhow::Result<()> {
    match action {
        TokenAction::Create { cloud, label, ttl } => {
            let ttl = ttl.as_deref().map(parse_duration).transpose()?;
            let (record, secret) = service
                .create_token(&cloud_of(&cloud)?, &label, ttl.map(|d| d.as_secs() as i64))
                .await?;
            println!("id={}\ntoken={secret}", record.id);
            println!("(shown once: only its hash is stored)");
        }
        TokenAction::List { cloud } => {
            println!(
                "{:<13} {:<12} {:<22} {:<22} status",
                "id", "label", "created", "expires"
            );
            for t in service.list_tokens(&cloud_of(&cloud)?).await? {
                let status = status(t.revoked_at);
                let expires = t.expires_at.map_or("never".to_string(), iso);
                println!(
                    "{:<13} {:<12} {:<22} {:<22} {status}",
                    t.id,
                    t.label,
                    iso(t.created_at),
                    expires
                );
            }
        }
        TokenAction::Revoke { cloud, id } => {
            service.revoke_token(&cloud_of(&cloud)?, &id).await?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}

async fn named(
    service: &Service,
    action: NamedAction,
    cloud_of: impl Fn(&CloudArg) -> anyhow::Result<CloudName>,
) -> anyhow::Result<()> {
    match action {
        NamedAction::Create {
            cloud,
            name,
            definition,
            allowed_for_strict,
        } => {
            let outcome = service
                .put_named_transformation(
                    &cloud_of(&cloud)?,
                    &name,
                    &definition,
                    allowed_for_strict,
                )
                .await?;
            let verb = match outcome {
                nubo_catalog::Created::New => "created",
                nubo_catalog::Created::AlreadyExisted => "replaced",
            };
            println!("{verb} transformation t_{name} = {definition}");
        }
        NamedAction::List { cloud } => {
            println!("{:<24} {:<7} definition", "name", "strict");
            for n in service
                .list_named_transformations(&cloud_of(&cloud)?)
                .await?
            {
                let strict = if n.allowed_for_strict { "yes" } else { "no" };
                println!("{:<24} {strict:<7} {}", n.name, n.definition);
            }
        }
        NamedAction::Delete { cloud, name } => {
            service
                .delete_named_transformation(&cloud_of(&cloud)?, &name)
                .await?;
            println!("deleted transformation {name}");
        }
    }
    Ok(())
}

async fn preset(
    service: &Service,
    action: PresetAction,
    cloud_of: impl Fn(&CloudArg) -> anyhow::Result<CloudName>,
) -> anyhow::Result<()> {
    match action {
        PresetAction::Create {
            cloud,
            name,
            unsigned,
            settings,
        } => {
            let mut map = BTreeMap::new();
            for s in settings {
                let Some((k, v)) = s.split_once('=') else {
                    bail!("--set expects KEY=VALUE, got {s:?}")
                };
                map.insert(k.trim().to_owned(), v.to_owned());
            }
            let outcome = service
                .put_preset(&cloud_of(&cloud)?, &name, unsigned, map)
                .await?;
            let verb = if outcome == nubo_catalog::Created::New {
                "created"
            } else {
                "replaced"
            };
            println!(
                "{verb} {} preset {name}",
                if unsigned { "unsigned" } else { "signed" }
            );
        }
        PresetAction::List { cloud } => {
            for p in service.list_presets(&cloud_of(&cloud)?).await? {
                let settings: Vec<String> =
                    p.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "{}\t{}\t{}",
                    p.name,
                    if p.unsigned { "unsigned" } else { "signed" },
                    settings.join(" ")
                );
            }
        }
        PresetAction::Delete { cloud, name } => {
            service.delete_preset(&cloud_of(&cloud)?, &name).await?;
            println!("deleted preset {name}");
        }
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let service = open_service(&settings).await?;
    let bootstrap = BootstrapConfig {
        cloud: settings.cloud_name.clone(),
        key: settings.api_key.clone(),
        secret: settings.api_secret.clone(),
    };
    if let Some(cred) = service
        .bootstrap(&bootstrap)
        .await
        .context("creating the configured cloud and key")?
    {
        println!(
            "Created cloud {} with a new API key. Point your app at this server with:",
            cred.cloud
        );
        println!(
            "CLOUDINARY_URL={}",
            settings.cloudinary_url(&cred.cloud, &cred.key, &cred.secret)
        );
    }
    // 0: HTTP shares the main multi-threaded runtime; n: n threads of
    // their own (see `serve_sharded`).
    let shards = settings.http_threads;
    let listeners = nubo_http::serve::bind_shards(settings.listen, shards.max(1))
        .with_context(|| format!("binding {}", settings.listen))?;
    let bound = listeners[0].local_addr()?;
    let app = nubo_http::App::new(
        service.clone(),
        nubo_http::HttpSettings {
            cors_origins: settings.cors_origins.clone(),
            body_timeout: settings.limits.body_timeout,
        },
    );
    tokio::spawn(sweep_periodically(
        service.clone(),
        crate::wiring::abandoned_after(&settings),
    ));
    // One flag stops both the HTTP servers and the job loop.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn({
        let stopped = stopped.clone();
        async move {
            service
                .run_jobs(nubo_http::serve::until_true(stopped))
                .await
        }
    });
    tracing::info!(listen = %bound, threads = shards, public_url = %settings.public_url, "nubo is ready");
    println!("nubo listening on http://{bound}");
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let (timeout, drain) = (settings.limits.header_timeout, Duration::from_secs(30));
    if shards == 0 {
        let listener =
            tokio::net::TcpListener::from_std(listeners.into_iter().next().expect("one"))?;
        let stop = nubo_http::serve::until_true(stopped);
        nubo_http::serve::serve(listener, app, timeout, drain, stop).await?;
    } else {
        nubo_http::serve::serve_sharded(listeners, app, timeout, drain, stopped).await?;
    }
    // Jobs in hand finish (or their leases lapse for another node).
    let _ = jobs.await;
    Ok(())
}

/// Collects blobs left unreferenced by overwrites inside the pin window and
/// by crashes, and staging files of killed processes.
async fn sweep_periodically(service: Service, abandoned_after: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let spool = service.blobs().spool().clone();
        match tokio::task::spawn_blocking(move || spool.sweep(abandoned_after)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(files = n, "removed abandoned staging files"),
            Ok(Err(e)) => tracing::warn!(error = %e, "staging sweep failed"),
            Err(e) => tracing::warn!(error = %e, "staging sweep panicked"),
        }
        match service.sweep_blobs(nubo_service::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(blobs = n, "collected unreferenced blobs"),
            Err(e) => tracing::warn!(error = %e, "blob sweep failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn iso(ts: i64) -> String {
    let secs = u64::try_from(ts).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

/// `3600s`, `15m`, `12h`, `30d`; a bare number is seconds.
fn parse_duration(raw: &str) -> anyhow::Result<Duration> {
    let (n, unit) =
        crate::config::number_and_unit(raw).with_context(|| format!("invalid duration {raw:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => bail!("invalid duration unit in {raw:?}: use s, m, h or d"),
    };
    Ok(Duration::from_secs(secs))
}

/// `active`, or when a key or token was revoked.
fn status(revoked_at: Option<i64>) -> String {
    revoked_at.map_or("active".to_string(), |t| format!("revoked {}", iso(t)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("30d").unwrap().as_secs(), 30 * 86400);
        assert_eq!(super::parse_duration("90").unwrap().as_secs(), 90);
        assert!(super::parse_duration("1y").is_err());
    }
}
