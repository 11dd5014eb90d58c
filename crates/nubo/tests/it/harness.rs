//! An in-process Nubo on a temp dir, and helpers to build SDK-shaped requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use nubo_blob::FsBlobStore;
use nubo_catalog::SqlCatalog;
use nubo_core::{CloudName, Limits};
use nubo_fetch::{FetchPolicy, RemoteFetcher};
use nubo_service::accounts::BootstrapConfig;
use nubo_service::signing::{sign_hex, string_to_sign, SignatureAlgorithm};
use nubo_service::{Service, ServiceSettings};
use tower::ServiceExt;

pub const KEY: &str = "1234567890";
pub const SECRET: &str = "abcdefghijklmnop";

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

pub struct TestApp {
    pub router: nubo_http::App,
    pub service: Service,
    pub dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn error_message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(Limits::default(), false).await
    }

    pub async fn with(limits: Limits, allow_private: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite:{}?mode=rwc",
            dir.path().join("catalog.db").display()
        );
        let catalog = SqlCatalog::connect(&url, None).await.unwrap();
        let blobs = FsBlobStore::open(dir.path()).unwrap();
        let fetcher = RemoteFetcher::new(FetchPolicy {
            allow_private,
            ..FetchPolicy::default()
        });
        let settings = ServiceSettings {
            limits: limits.clone(),
            public_url: "http://media.test".into(),
            strict_transformations: false,
            admin_rate_limit: 5000,
            jobs: nubo_service::jobs::JobSettings {
                poll: std::time::Duration::from_millis(50),
                backoff_base: std::time::Duration::from_millis(100),
                lease: std::time::Duration::from_secs(5),
                ..Default::default()
            },
        };
        let engine = nubo_engine::Engine::new(nubo_engine::EngineLimits::default(), 2);
        let service = Service::new(
            Arc::new(catalog),
            Arc::new(blobs),
            fetcher,
            engine,
            settings,
        );
        let boot = BootstrapConfig {
            cloud: Some(CloudName::parse("demo").unwrap()),
            key: Some(KEY.into()),
            secret: Some(SECRET.into()),
        };
        service.bootstrap(&boot).await.unwrap();
        let worker = service.clone();
        tokio::spawn(async move { worker.run_jobs(std::future::pending::<()>()).await });
        let router = nubo_http::App::new(
            service.clone(),
            nubo_http::HttpSettings {
                cors_origins: vec!["*".into()],
                body_timeout: limits.body_timeout,
            },
        );
        Self {
            router,
            service,
            dir,
        }
    }

    /// Waits until no job is queued or running (background work is done).
    pub async fn drain_jobs(&self) {
        for _ in 0..400 {
            let c = self.service.job_counts().await.unwrap();
            if c.queued == 0 && c.running == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("jobs still pending after 10 s");
    }

    pub async fn send(&self, req: Request<Body>) -> Response {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Response {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// Posts a multipart form, as both SDKs do for every Upload API call.
    pub async fn post_form(
        &self,
        path: &str,
        fields: &[(String, String)],
        file: Option<(&str, &[u8])>,
    ) -> Response {
        let (content_type, body) = multipart(fields, file);
        let req = Request::post(path)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Signs and posts an Upload API call.
    pub async fn call(
        &self,
        action_path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Response {
        let action = action_path.rsplit('/').next().unwrap();
        self.post_form(
            &format!("/v1_1/demo/{action_path}"),
            &signed(action, fields, crate::harness::now()),
            file,
        )
        .await
    }

    /// Uploads a fixture as image `id` (signed, with `extra` fields);
    /// panics unless it is stored.
    pub async fn upload_fixture(
        &self,
        id: &str,
        name: &str,
        extra: &[(&str, &str)],
    ) -> serde_json::Value {
        let mut fields = vec![("public_id", id)];
        fields.extend_from_slice(extra);
        let r = self
            .call("image/upload", &fields, Some((name, &fixture(name))))
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    /// Files under the blob store (not counting staging files).
    pub fn blob_files(&self) -> usize {
        files_under(&self.dir.path().join("blobs")).len()
    }

    pub fn spool_files(&self) -> usize {
        files_under(&self.dir.path().join("tmp")).len()
    }
}

/// Files under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                files_under(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}

pub fn now() -> i64 {
    nubo_service::now()
}

/// Adds `timestamp`, `api_key` and a SHA-1 `signature`, as the SDKs do.
pub fn signed(action: &str, fields: &[(&str, &str)], timestamp: i64) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.push(("timestamp".into(), timestamp.to_string()));
    let collapsed = nubo_service::Params::from_pairs(out.clone()).collapsed();
    let sig = sign_hex(
        &string_to_sign(action, &collapsed, true),
        SECRET,
        SignatureAlgorithm::Sha1,
    );
    out.push(("signature".into(), sig));
    out.push(("api_key".into(), KEY.into()));
    out
}

pub fn multipart(fields: &[(String, String)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "nubo-test-boundary-7d3f";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The path of a delivery URL from an upload response.
pub fn path_of(url: &serde_json::Value) -> String {
    url.as_str()
        .unwrap()
        .strip_prefix("http://media.test")
        .unwrap()
        .to_owned()
}

/// HTTP Basic credentials of the test key, as the Admin API takes them.
pub fn basic() -> String {
    use base64::Engine;
    let creds = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"));
    format!("Basic {creds}")
}

/// An Admin API call (`path` under `/v1_1/demo/`) with a JSON body or none.
pub async fn admin(
    app: &TestApp,
    method: &str,
    path: &str,
    json: Option<serde_json::Value>,
) -> Response {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/v1_1/demo/{path}"))
        .header("authorization", basic());
    let body = match json {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    app.send(req.body(body).unwrap()).await
}
