//! The HTTP edge: axum routes over [`nubo_service::Service`].
//!
//! Core abstractions:
//! - [`router`]: every route, per area ([`upload_api`], [`delivery`], health).
//! - [`ApiError`]: the one error type handlers return; it renders
//!   Cloudinary's `{"error":{"message":…}}` with the right status (and
//!   `X-Cld-Error` on delivery).
//! - [`body`]: turns query strings, multipart (streamed to the spool),
//!   urlencoded and JSON bodies into [`nubo_service::Params`].
//! - [`auth`]: the single place credentials are read from headers.
//! - [`serve`]: the hyper accept loop, with header-read timeouts.

mod admin_api;
pub mod auth;
pub mod body;
mod delivery;
mod error;
pub mod serve;
mod tus_api;
mod upload_api;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use nubo_service::Service;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins browsers may post uploads from; `*` allows any.
    pub cors_origins: Vec<String>,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
}

/// What every handler gets: one `Arc`, so extracting it per request is a
/// single reference-count increment (cloning the service's own handles
/// per request showed in delivery profiles).
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

pub(crate) struct Shared {
    service: Service,
    settings: HttpSettings,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Builds the application router.
pub fn router(service: Service, settings: HttpSettings) -> Router {
    let cors = upload_cors(&settings.cors_origins);
    let state = AppState(Arc::new(Shared { service, settings }));
    // API calls get request ids and request tracing; delivery, the hot
    // path that a CDN or browser hits for every image, stays lean.
    let api = Router::new()
        .route("/v1_1/{*rest}", any(upload_api::dispatch))
        .layer(cors)
        // Outside the CORS layer, which answers every OPTIONS itself.
        .layer(axum::middleware::from_fn(tus_api::discovery))
        .layer(axum::middleware::from_fn(request_id))
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());
    let delivery = Router::new()
        .route(
            "/{cloud}/{*rest}",
            get(delivery::deliver).head(delivery::deliver),
        )
        .with_state(state);
    Router::new()
        .route("/health", get(health))
        .merge(api)
        .merge(delivery)
        .fallback(not_found)
}

async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("Not found")
}

/// Every response carries an `X-Request-Id`; the Python SDK copies it into
/// results as `request_id`.
async fn request_id(req: Request, next: Next) -> Response {
    let id = hex::encode(rand::random::<[u8; 12]>());
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(
        "x-request-id",
        HeaderValue::from_str(&id).expect("hex is a valid header"),
    );
    resp
}

fn upload_cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::POST,
            Method::GET,
            Method::OPTIONS,
            // tus
            Method::PATCH,
            Method::HEAD,
            Method::DELETE,
        ])
        .allow_headers(
            [
                "content-type",
                "content-range",
                "x-unique-upload-id",
                "x-requested-with",
                "authorization",
                "tus-resumable",
                "upload-length",
                "upload-metadata",
                "upload-offset",
            ]
            .map(|h| h.parse().expect("static header name")),
        )
        .expose_headers(
            [
                "x-request-id",
                "location",
                "tus-resumable",
                "upload-offset",
                "upload-length",
                "upload-expires",
            ]
            .map(|h| h.parse().expect("static header name")),
        )
        .max_age(Duration::from_secs(600))
}
