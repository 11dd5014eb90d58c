//! [`ApiError`]: how every failure leaves the server.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nubo_service::{ErrorKind, ServiceError};

/// An error response in Cloudinary's format.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Delivery errors also carry the message in `X-Cld-Error`.
    pub delivery: bool,
    /// Admin errors carry the caller's rate-limit state.
    pub rate: Option<nubo_service::admin::RateStatus>,
    /// A 405 names the methods the path takes (`Allow`).
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            delivery: false,
            rate: None,
            allow: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Method not allowed; use {allow}"),
            )
        }
    }

    pub fn for_delivery(mut self) -> Self {
        self.delivery = true;
        self
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match e.kind() {
            // The Upload API never answers 409: the Node SDK cannot read it.
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::AlreadyExists => StatusCode::BAD_REQUEST,
            ErrorKind::RateLimited => StatusCode::from_u16(420).expect("a valid status"),
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
        }
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "message": self.message } });
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(allow) = self.allow {
            resp.headers_mut()
                .insert(axum::http::header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(rate) = self.rate {
            crate::admin_api::rate_headers(resp.headers_mut(), rate);
        }
        if self.delivery {
            // Header values must be visible ASCII; keep what fits.
            let clean: String = self
                .message
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control())
                .collect();
            if let Ok(v) = HeaderValue::from_str(&clean) {
                resp.headers_mut().insert("x-cld-error", v);
            }
            delivery_cors(resp.headers_mut());
        }
        resp
    }
}

/// Delivered files, and delivery errors, may be read by any origin, which
/// also sees `X-Cld-Error` (as on Cloudinary).
pub(crate) fn delivery_cors(h: &mut axum::http::HeaderMap) {
    h.insert(
        axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        axum::http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-Cld-Error"),
    );
}
