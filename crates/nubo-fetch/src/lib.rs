//! Fetching remote files for `file=https://…` uploads, safely.
//!
//! Core abstractions: [`RemoteFetcher`] (one shared HTTP client),
//! [`FetchPolicy`] (timeouts, redirects, whether private addresses are
//! allowed) and [`RemoteBody`] (a size-capped stream of the response).
//!
//! Server-side request forgery is stopped at the resolver: every address a
//! host name resolves to is checked *before* connecting, so DNS rebinding
//! cannot slip a private address in between the check and the connection.
//! IP-literal hosts are checked directly, and every redirect hop is re-checked.
#![forbid(unsafe_code)]

mod addr;

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

pub use addr::is_public;

/// What remote fetches may do.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Allow private, loopback, link-local and other non-public addresses.
    pub allow_private: bool,
    pub connect_timeout: Duration,
    /// Whole request, body included.
    pub total_timeout: Duration,
    pub max_redirects: u8,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(60),
            max_redirects: 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("Invalid URL {0}")]
    BadUrl(String),
    #[error("Remote address of {0} is not allowed (private, loopback or reserved)")]
    Blocked(String),
    #[error("Error in loading {url} - {status}")]
    Status { url: String, status: u16 },
    #[error("Remote file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("Timed out loading {0}")]
    Timeout(String),
    #[error("Too many redirects loading {0}")]
    TooManyRedirects(String),
    #[error("Error in loading {url} - {why}")]
    Network { url: String, why: String },
}

/// A successful response: its final URL and a capped stream of its body.
pub struct RemoteBody {
    pub final_url: Url,
    pub declared_len: Option<u64>,
    pub body: Pin<Box<dyn Stream<Item = Result<Bytes, FetchError>> + Send>>,
}

/// A shared HTTP client that only reaches addresses the policy allows.
#[derive(Clone)]
pub struct RemoteFetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
}

struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(BlockedHost(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("blocked host {0}")]
struct BlockedHost(String);

impl RemoteFetcher {
    pub fn new(policy: FetchPolicy) -> Self {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: policy.allow_private,
            }))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.total_timeout)
            .user_agent(concat!("Nubo/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS backend is compiled in");
        Self { client, policy }
    }

    /// GETs `url`, following redirects (each re-checked), and returns a body
    /// stream that fails once more than `max_bytes` arrive.
    pub async fn open(&self, url: &str, max_bytes: u64) -> Result<RemoteBody, FetchError> {
        let mut current = self.check_url(url)?;
        for _ in 0..=self.policy.max_redirects {
            let resp = self
                .client
                .get(current.clone())
                .send()
                .await
                .map_err(|e| classify(&current, e))?;
            let status = resp.status();
            if status.is_redirection() {
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| FetchError::Status {
                        url: current.to_string(),
                        status: status.as_u16(),
                    })?;
                let next = current
                    .join(location)
                    .map_err(|_| FetchError::BadUrl(location.to_owned()))?;
                current = self.check_url(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    url: current.to_string(),
                    status: status.as_u16(),
                });
            }
            let declared_len = resp.content_length();
            if declared_len.is_some_and(|n| n > max_bytes) {
                return Err(FetchError::TooLarge { limit: max_bytes });
            }
            let url_for_errors = current.clone();
            let mut seen = 0u64;
            let body = resp.bytes_stream().map(move |chunk| {
                let chunk = chunk.map_err(|e| classify(&url_for_errors, e))?;
                seen += chunk.len() as u64;
                if seen > max_bytes {
                    return Err(FetchError::TooLarge { limit: max_bytes });
                }
                Ok(chunk)
            });
            return Ok(RemoteBody {
                final_url: current,
                declared_len,
                body: Box::pin(body),
            });
        }
        Err(FetchError::TooManyRedirects(url.to_owned()))
    }

    /// POSTs a JSON body (a webhook) under the same address rules as
    /// [`Self::open`]. Redirects are not followed: a notification goes where
    /// it was told, or fails. Returns the status and up to 1 KiB of the
    /// response body (for the delivery record).
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: String,
        timeout: Duration,
    ) -> Result<(u16, String), FetchError> {
        let url = self.check_url(url)?;
        let mut req = self
            .client
            .post(url.clone())
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = req.send().await.map_err(|e| classify(&url, e))?;
        let status = resp.status().as_u16();
        let mut excerpt = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { break };
            excerpt.extend_from_slice(&chunk[..chunk.len().min(1024 - excerpt.len())]);
            if excerpt.len() >= 1024 {
                break;
            }
        }
        Ok((status, String::from_utf8_lossy(&excerpt).into_owned()))
    }

    /// Only http(s), and IP-literal hosts must pass the address check here
    /// because the resolver is never asked about them.
    fn check_url(&self, raw: &str) -> Result<Url, FetchError> {
        let url = Url::parse(raw).map_err(|_| FetchError::BadUrl(raw.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(raw.to_owned()));
        }
        let literal: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            Some(url::Host::Domain(_)) => None,
            None => return Err(FetchError::BadUrl(raw.to_owned())),
        };
        if let Some(ip) = literal {
            if !self.policy.allow_private && !is_public(ip) {
                return Err(FetchError::Blocked(
                    url.host_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        Ok(url)
    }
}

fn classify(url: &Url, e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(url.to_string());
    }
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = source {
        if err.downcast_ref::<BlockedHost>().is_some() {
            return FetchError::Blocked(url.host_str().unwrap_or_default().to_owned());
        }
        source = err.source();
    }
    FetchError::Network {
        url: url.to_string(),
        why: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literal_private_addresses_are_refused_before_any_connection() {
        let f = RemoteFetcher::new(FetchPolicy::default());
        for url in [
            "http://127.0.0.1/x",
            "http://10.1.2.3/x",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/x",
            "http://0.0.0.0/x",
        ] {
            assert!(
                matches!(f.open(url, 10).await, Err(FetchError::Blocked(_))),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let f = RemoteFetcher::new(FetchPolicy::default());
        let r = f.open("http://localhost:9/x", 10).await;
        assert!(matches!(r, Err(FetchError::Blocked(_))), "{:?}", r.err());
    }

    #[tokio::test]
    async fn webhook_posts_follow_the_same_address_rules() {
        let f = RemoteFetcher::new(FetchPolicy::default());
        let t = Duration::from_secs(1);
        for url in [
            "http://127.0.0.1:9/h",
            "http://[::1]/h",
            "http://localhost:9/h",
        ] {
            let r = f.post_json(url, &[], "{}".into(), t).await;
            assert!(
                matches!(r, Err(FetchError::Blocked(_))),
                "{url}: {:?}",
                r.err()
            );
        }
        let r = f
            .post_json("ftp://example.com/h", &[], "{}".into(), t)
            .await;
        assert!(matches!(r, Err(FetchError::BadUrl(_))));
    }

    #[tokio::test]
    async fn other_schemes_are_bad_urls() {
        let f = RemoteFetcher::new(FetchPolicy::default());
        for url in ["ftp://example.com/a", "file:///etc/passwd", "not a url"] {
            assert!(
                matches!(f.open(url, 10).await, Err(FetchError::BadUrl(_))),
                "{url}"
            );
        }
    }
}

#[cfg(test)]
mod redirect_tests {
    use super::*;
    use futures_util::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A tiny HTTP/1.0 server: `/ok` answers 10 bytes, `/big` 1000 bytes,
    /// `/to-ok` and `/to-file` redirect, `/loop` redirects to itself.
    async fn server() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]).to_string();
                    let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let resp = match path.as_str() {
                        "/ok" => {
                            "HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n0123456789".to_string()
                        }
                        "/big" => format!("HTTP/1.0 200 OK\r\n\r\n{}", "x".repeat(1000)),
                        "/to-ok" => "HTTP/1.0 302 Found\r\nLocation: /ok\r\n\r\n".to_string(),
                        "/to-file" => {
                            "HTTP/1.0 302 Found\r\nLocation: file:///etc/passwd\r\n\r\n".to_string()
                        }
                        "/loop" => "HTTP/1.0 302 Found\r\nLocation: /loop\r\n\r\n".to_string(),
                        _ => "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
                    };
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        base
    }

    fn permissive() -> RemoteFetcher {
        RemoteFetcher::new(FetchPolicy {
            allow_private: true,
            ..FetchPolicy::default()
        })
    }

    async fn body(f: &RemoteFetcher, url: &str, max: u64) -> Result<Vec<u8>, FetchError> {
        let mut remote = f.open(url, max).await?;
        let mut out = Vec::new();
        while let Some(chunk) = remote.body.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn redirects_are_followed_and_every_hop_is_rechecked() {
        let base = server().await;
        let f = permissive();
        assert_eq!(
            body(&f, &format!("{base}/to-ok"), 100).await.unwrap(),
            b"0123456789"
        );
        let hop = f.open(&format!("{base}/to-file"), 100).await;
        assert!(
            matches!(hop, Err(FetchError::BadUrl(_))),
            "a redirect to file:// is refused"
        );
        let looped = f.open(&format!("{base}/loop"), 100).await;
        assert!(matches!(looped, Err(FetchError::TooManyRedirects(_))));
        let missing = f.open(&format!("{base}/nope"), 100).await;
        assert!(matches!(
            missing,
            Err(FetchError::Status { status: 404, .. })
        ));
    }

    #[tokio::test]
    async fn size_limits_apply_with_and_without_a_declared_length() {
        let base = server().await;
        let f = permissive();
        let declared = f.open(&format!("{base}/ok"), 5).await;
        assert!(matches!(declared, Err(FetchError::TooLarge { limit: 5 })));
        let streamed = body(&f, &format!("{base}/big"), 500).await;
        assert!(matches!(streamed, Err(FetchError::TooLarge { limit: 500 })));
        assert_eq!(
            body(&f, &format!("{base}/big"), 1000).await.unwrap().len(),
            1000
        );
    }
}
