//! Configuration: defaults, then `nubo.toml`, then `NUBO_*` environment
//! variables, then command-line flags; parsed once into typed [`Settings`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nubo_core::{CloudName, Limits};

/// Every setting, with its default. The environment variable is
/// `NUBO_<KEY>` in upper case; the file key is the key itself.
const KEYS: &[(&str, &str)] = &[
    ("listen", "127.0.0.1:8080"),
    ("data_dir", "./nubo-data"),
    ("database_url", ""),
    ("database_schema", ""),
    ("public_url", ""),
    ("cloud_name", ""),
    ("api_key", ""),
    ("api_secret", ""),
    ("fetch_allow_private", "false"),
    ("fetch_connect_timeout_secs", "5"),
    ("fetch_timeout_secs", "60"),
    ("cors_origins", "*"),
    ("max_image_bytes", "100MiB"),
    ("max_video_bytes", "2GiB"),
    ("max_raw_bytes", "2GiB"),
    ("max_image_pixels", "100000000"),
    ("max_image_frames", "1000"),
    ("max_field_bytes", "80MiB"),
    ("max_output_pixels", "50000000"),
    ("max_animation_pixels", "500000000"),
    ("render_timeout_secs", "30"),
    ("render_workers", "0"),
    ("http_threads", "0"),
    ("strict_transformations", "false"),
    ("admin_rate_limit", "5000"),
    ("job_workers", "4"),
    ("job_lease_secs", "60"),
    ("job_poll_ms", "1000"),
    ("job_backoff_ms", "10000"),
    ("job_backoff_cap_secs", "3600"),
    ("job_attempts", "3"),
    ("job_timeout_secs", "600"),
    ("webhook_attempts", "8"),
    ("webhook_timeout_secs", "10"),
    ("webhook_signature_algorithm", "sha1"),
    ("header_timeout_secs", "30"),
    ("body_timeout_secs", "3600"),
    ("log", "info"),
];

const SECRET_KEYS: &[&str] = &["api_secret"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Toml {
        path: String,
        source: toml::de::Error,
    },
    #[error("{path}: unknown setting {key:?}")]
    UnknownKey { path: String, key: String },
    #[error("setting {key} = {value:?} (from {origin}): {why}")]
    Invalid {
        key: String,
        value: String,
        origin: String,
        why: String,
    },
}

/// Raw values with where each came from, before parsing.
#[derive(Debug, Clone)]
pub struct RawConfig {
    values: BTreeMap<String, (String, String)>,
}

impl RawConfig {
    /// Layers the sources. `file` is `--config`; otherwise `NUBO_CONFIG`,
    /// otherwise `./nubo.toml` if it exists.
    pub fn load(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
        flags: &[(&str, Option<String>)],
    ) -> Result<Self, ConfigError> {
        let mut values: BTreeMap<String, (String, String)> = KEYS
            .iter()
            .map(|(k, d)| (k.to_string(), (d.to_string(), "default".to_string())))
            .collect();
        let path = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("NUBO_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("nubo.toml")).filter(|p| p.exists()));
        if let Some(path) = path {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: shown.clone(),
                source,
            })?;
            let table: toml::Table = text.parse().map_err(|source| ConfigError::Toml {
                path: shown.clone(),
                source,
            })?;
            for (key, value) in table {
                if !KEYS.iter().any(|(k, _)| *k == key) {
                    return Err(ConfigError::UnknownKey { path: shown, key });
                }
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                values.insert(key, (text, shown.clone()));
            }
        }
        for (key, _) in KEYS {
            let var = format!("NUBO_{}", key.to_ascii_uppercase());
            if let Some(v) = env.get(&var) {
                values.insert(key.to_string(), (v.clone(), var));
            }
        }
        for (key, value) in flags {
            if let Some(v) = value {
                values.insert(
                    key.to_string(),
                    (v.clone(), format!("--{}", key.replace('_', "-"))),
                );
            }
        }
        Ok(Self { values })
    }

    fn get(&self, key: &str) -> &str {
        &self.values.get(key).expect("every key has a default").0
    }

    fn invalid(&self, key: &str, why: impl ToString) -> ConfigError {
        let (value, origin) = self.values.get(key).cloned().unwrap_or_default();
        ConfigError::Invalid {
            key: key.into(),
            value,
            origin,
            why: why.to_string(),
        }
    }

    fn opt(&self, key: &str) -> Option<String> {
        Some(self.get(key).trim().to_owned()).filter(|s| !s.is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(key)
            .trim()
            .parse()
            .map_err(|e| self.invalid(key, e))
    }

    fn bytes(&self, key: &str) -> Result<u64, ConfigError> {
        parse_size(self.get(key))
            .ok_or_else(|| self.invalid(key, "expected bytes, e.g. 1048576, 100MiB or 2GiB"))
    }

    fn secs(&self, key: &str) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(self.parse::<u64>(key)?))
    }

    fn flag(&self, key: &str) -> Result<bool, ConfigError> {
        match self.get(key).trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => Err(self.invalid(key, "expected true or false")),
        }
    }

    /// Every value as `key = "value"  # origin`, secrets redacted.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for (key, (value, origin)) in &self.values {
            let shown = if SECRET_KEYS.contains(&key.as_str()) && !value.is_empty() {
                "<redacted>".to_string()
            } else if key == "database_url" {
                redact_url_password(value)
            } else {
                value.clone()
            };
            out.push_str(&format!(
                "{key} = {}  # {origin}\n",
                toml::Value::String(shown)
            ));
        }
        out
    }
}

fn job_settings(raw: &RawConfig) -> Result<nubo_service::jobs::JobSettings, ConfigError> {
    use nubo_service::signing::SignatureAlgorithm;
    let at_least_one = |key: &str| -> Result<i64, ConfigError> {
        match raw.parse::<i64>(key)? {
            n if n >= 1 => Ok(n),
            _ => Err(raw.invalid(key, "must be at least 1")),
        }
    };
    let lease = raw.secs("job_lease_secs")?;
    if lease < Duration::from_secs(3) {
        return Err(raw.invalid("job_lease_secs", "must be at least 3"));
    }
    Ok(nubo_service::jobs::JobSettings {
        workers: raw.parse("job_workers")?,
        lease,
        poll: Duration::from_millis(raw.parse("job_poll_ms")?),
        backoff_base: Duration::from_millis(raw.parse("job_backoff_ms")?),
        backoff_cap: raw.secs("job_backoff_cap_secs")?,
        job_attempts: at_least_one("job_attempts")?,
        job_timeout: raw.secs("job_timeout_secs")?,
        webhook_attempts: at_least_one("webhook_attempts")?,
        webhook_timeout: raw.secs("webhook_timeout_secs")?,
        signature_algorithm: match raw.get("webhook_signature_algorithm") {
            "sha1" => SignatureAlgorithm::Sha1,
            "sha256" => SignatureAlgorithm::Sha256,
            _ => return Err(raw.invalid("webhook_signature_algorithm", "use sha1 or sha256")),
        },
    })
}

/// Typed, validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_schema: Option<String>,
    pub public_url: String,
    pub cloud_name: Option<CloudName>,
    pub api_key: Option<String>,
    pub api_secret: Option<String>,
    pub fetch_allow_private: bool,
    pub fetch_connect_timeout: Duration,
    pub fetch_timeout: Duration,
    pub cors_origins: Vec<String>,
    pub limits: Limits,
    pub render: nubo_engine::EngineLimits,
    /// 0 = one per core.
    pub render_workers: usize,
    /// Threads accepting and serving HTTP, each with its own runtime and
    /// `SO_REUSEPORT` socket (0 = HTTP runs on the main runtime).
    pub http_threads: usize,
    pub strict_transformations: bool,
    /// Admin API calls per key per hour.
    pub admin_rate_limit: u32,
    pub jobs: nubo_service::jobs::JobSettings,
    pub log: String,
}

impl Settings {
    pub fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let listen: SocketAddr = raw.parse("listen")?;
        let data_dir = PathBuf::from(raw.get("data_dir"));
        let database_url = raw.opt("database_url").unwrap_or_else(|| {
            format!("sqlite:{}?mode=rwc", data_dir.join("catalog.db").display())
        });
        if nubo_catalog::Dialect::of_url(&database_url).is_none() {
            return Err(raw.invalid("database_url", "use sqlite:PATH or postgres://…"));
        }
        let public_url = match raw.opt("public_url") {
            Some(u) => {
                let parsed = url::Url::parse(&u).map_err(|e| raw.invalid("public_url", e))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(raw.invalid("public_url", "expected an absolute http(s) URL"));
                }
                u.trim_end_matches('/').to_owned()
            }
            None => {
                let host = if listen.ip().is_unspecified() {
                    "127.0.0.1".to_string()
                } else {
                    listen.ip().to_string()
                };
                let host = if listen.is_ipv6() && !listen.ip().is_unspecified() {
                    format!("[{host}]")
                } else {
                    host
                };
                format!("http://{host}:{}", listen.port())
            }
        };
        let cloud_name = match raw.opt("cloud_name") {
            Some(c) => Some(CloudName::parse(&c).map_err(|e| raw.invalid("cloud_name", e))?),
            None => None,
        };
        let (api_key, api_secret) = (raw.opt("api_key"), raw.opt("api_secret"));
        if api_key.is_some() != api_secret.is_some() {
            return Err(raw.invalid(
                "api_key",
                "NUBO_API_KEY and NUBO_API_SECRET must be set together",
            ));
        }
        let limits = Limits {
            max_image_bytes: raw.bytes("max_image_bytes")?,
            max_video_bytes: raw.bytes("max_video_bytes")?,
            max_raw_bytes: raw.bytes("max_raw_bytes")?,
            max_image_pixels: raw.parse("max_image_pixels")?,
            max_image_frames: raw.parse("max_image_frames")?,
            max_field_bytes: raw.bytes("max_field_bytes")?,
            header_timeout: raw.secs("header_timeout_secs")?,
            body_timeout: raw.secs("body_timeout_secs")?,
        };
        Ok(Self {
            listen,
            data_dir,
            database_url,
            database_schema: raw.opt("database_schema"),
            public_url,
            cloud_name,
            api_key,
            api_secret,
            fetch_allow_private: raw.flag("fetch_allow_private")?,
            fetch_connect_timeout: raw.secs("fetch_connect_timeout_secs")?,
            fetch_timeout: raw.secs("fetch_timeout_secs")?,
            cors_origins: raw
                .get("cors_origins")
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            render: nubo_engine::EngineLimits {
                max_input_pixels: limits.max_image_pixels,
                max_output_pixels: raw.parse("max_output_pixels")?,
                max_frames: limits.max_image_frames,
                max_frame_pixels: raw.parse("max_animation_pixels")?,
                time_budget: raw.secs("render_timeout_secs")?,
            },
            render_workers: raw.parse("render_workers")?,
            http_threads: raw.parse("http_threads")?,
            strict_transformations: raw.flag("strict_transformations")?,
            admin_rate_limit: raw.parse("admin_rate_limit")?,
            jobs: job_settings(raw)?,
            limits,
            log: raw.get("log").to_owned(),
        })
    }

    /// The `CLOUDINARY_URL` an app should use for this server.
    pub fn cloudinary_url(&self, cloud: &CloudName, key: &str, secret: &str) -> String {
        let parsed = url::Url::parse(&self.public_url).expect("validated");
        let host = parsed.host_str().unwrap_or("127.0.0.1");
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let delivery = if parsed.scheme() == "https" {
            format!("secure_distribution={authority}&secure=true")
        } else {
            format!("cname={authority}")
        };
        format!(
            "cloudinary://{key}:{secret}@{cloud}?upload_prefix={}&{delivery}",
            self.public_url
        )
    }
}

/// `123`, `64KiB`, `100MiB`, `2GiB` (also `k`, `M`, `G`, `KB`, `MB`, `GB` as binary units).
pub fn parse_size(raw: &str) -> Option<u64> {
    let (n, unit) = number_and_unit(raw)?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// `100MiB` → `(100, "MiB")`: the leading digits and what follows them.
pub fn number_and_unit(raw: &str) -> Option<(u64, &str)> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (num, unit) = raw.split_at(split);
    Some((num.parse().ok()?, unit.trim()))
}

fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nubo.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/from-file\"\nmax_image_bytes = \"1MiB\"\ncors_origins = [\"https://a\", \"https://b\"]\n").unwrap();
        let e = env(&[
            ("NUBO_DATA_DIR", "/from-env"),
            ("NUBO_LISTEN", "127.0.0.1:9100"),
        ]);
        let flags = [("listen", Some("127.0.0.1:9200".to_string()))];
        let raw = RawConfig::load(Some(&file), &e, &flags).unwrap();
        let s = Settings::from_raw(&raw).unwrap();
        assert_eq!(s.listen.port(), 9200, "flags beat env");
        assert_eq!(s.data_dir, PathBuf::from("/from-env"), "env beats file");
        assert_eq!(s.limits.max_image_bytes, 1 << 20, "file beats defaults");
        assert_eq!(s.limits.max_video_bytes, 2 << 30, "defaults remain");
        assert_eq!(s.cors_origins, ["https://a", "https://b"]);
        assert_eq!(s.public_url, "http://127.0.0.1:9200");
        assert!(s.database_url.starts_with("sqlite:/from-env/catalog.db"));
    }

    #[test]
    fn invalid_values_name_their_origin() {
        let e = env(&[("NUBO_MAX_IMAGE_BYTES", "lots")]);
        let err = Settings::from_raw(&RawConfig::load(None, &e, &[]).unwrap()).unwrap_err();
        assert!(err.to_string().contains("NUBO_MAX_IMAGE_BYTES"), "{err}");
        let e = env(&[("NUBO_API_KEY", "123")]);
        assert!(Settings::from_raw(&RawConfig::load(None, &e, &[]).unwrap()).is_err());
        let e = env(&[("NUBO_DATABASE_URL", "mysql://x")]);
        assert!(Settings::from_raw(&RawConfig::load(None, &e, &[]).unwrap()).is_err());
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nubo.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        assert!(matches!(
            RawConfig::load(Some(&file), &BTreeMap::new(), &[]),
            Err(ConfigError::UnknownKey { .. })
        ));
    }

    #[test]
    fn dump_redacts_secrets() {
        let e = env(&[
            ("NUBO_API_KEY", "k"),
            ("NUBO_API_SECRET", "hunter2"),
            ("NUBO_DATABASE_URL", "postgres://u:pw@h/db"),
        ]);
        let dump = RawConfig::load(None, &e, &[]).unwrap().dump();
        assert!(
            !dump.contains("hunter2") && !dump.contains(":pw@"),
            "{dump}"
        );
        assert!(dump.contains("<redacted>"));
    }

    #[test]
    fn cloudinary_url_line() {
        let s = Settings::from_raw(&RawConfig::load(None, &BTreeMap::new(), &[]).unwrap()).unwrap();
        let demo = CloudName::parse("demo").unwrap();
        assert_eq!(
            s.cloudinary_url(&demo, "k", "s"),
            "cloudinary://k:s@demo?upload_prefix=http://127.0.0.1:8080&cname=127.0.0.1:8080"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100MiB"), Some(100 << 20));
        assert_eq!(parse_size("42"), Some(42));
        assert_eq!(parse_size("2gb"), Some(2 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }
}
