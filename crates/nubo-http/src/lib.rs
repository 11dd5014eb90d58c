//! The HTTP edge: axum routes over [`nubo_service::Service`].
//!
//! Core abstractions:
//! - [`App`]: the service hyper runs. Delivery requests go straight to
//!   their handler; everything else goes through the axum router of
//!   every route, per area ([`upload_api`], [`delivery`], health).
//! - [`ApiError`]: the one error type handlers return; it renders
//!   Cloudinary's `{"error":{"message":…}}` with the right status (and
//!   `X-Cld-Error` on delivery).
//! - [`body`]: turns query strings, multipart (streamed to the spool),
//!   urlencoded and JSON bodies into [`nubo_service::Params`].
//! - [`auth`]: the single place credentials are read from headers.
//! - [`serve`]: the hyper accept loop, with header-read timeouts.
#![forbid(unsafe_code)]

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

use axum::http::Request;
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

/// The application: `GET`/`HEAD` on a delivery path is answered by the
/// delivery handler directly; all else goes through the axum router, whose
/// fallback is the same handler. Delivery is the request a CDN or browser
/// makes for every image, and axum's routing (route matching, percent-
/// decoding and storing path parameters) cost it a tenth of its CPU.
#[derive(Clone)]
pub struct App {
    state: AppState,
    router: Router,
}

impl App {
    pub fn new(service: Service, settings: HttpSettings) -> App {
        let state = AppState(Arc::new(Shared { service, settings }));
        App {
            router: routes(state.clone()),
            state,
        }
    }

    fn is_delivery(req: &Request<impl Sized>) -> bool {
        let path = req.uri().path();
        matches!(*req.method(), Method::GET | Method::HEAD)
            && !path.starts_with("/v1_1/")
            && path != "/health"
    }
}

impl<B> tower::Service<Request<B>> for App
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        // Both the handler and the router are always ready.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let req = req.map(axum::body::Body::new);
        if App::is_delivery(&req) {
            let state = self.state.clone();
            let head = req.into_parts().0;
            Box::pin(async move { Ok(delivery::answer(&state, &head).await) })
        } else {
            let mut router = self.router.clone();
            Box::pin(async move { tower::Service::call(&mut router, req).await })
        }
    }
}

/// Every route, per area; delivery is the fallback.
fn routes(state: AppState) -> Router {
    let cors = upload_cors(&state.settings.cors_origins);
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
    // Delivery is every other path: a fallback, not a `{cloud}/{*rest}`
    // route, so no path parameters are decoded (the delivery parser reads
    // the path itself). `App` sends GET and HEAD there without routing.
    Router::new()
        .route("/health", get(health))
        .merge(api)
        .fallback(delivery::deliver)
        .with_state(state)
}

async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Every response carries an `X-Request-Id`; the Python SDK copies it into
/// results as `request_id`.
async fn request_id(req: axum::extract::Request, next: Next) -> Response {
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
