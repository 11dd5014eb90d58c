//! Delivery: `GET|HEAD /{cloud}/{rt}/{type}/…` with ETag, Last-Modified,
//! conditional requests (304) and single byte ranges (206).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use nubo_blob::ByteRange;
use nubo_service::deliver::{ClientHints, Delivery};

use crate::{ApiError, AppState};

// Named once: looking a header up by `&str` re-parses the name each time.
static SEC_CH_DPR: header::HeaderName = header::HeaderName::from_static("sec-ch-dpr");
static DPR: header::HeaderName = header::HeaderName::from_static("dpr");

/// The router's fallback: every path that is not an API route.
pub(crate) async fn deliver(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> Response {
    answer(&state, &req.into_parts().0).await
}

/// Answers a request on a delivery path, errors included. A delivery has
/// no body, so only the request head is kept (and borrowed, not copied).
pub(crate) async fn answer(state: &AppState, req: &axum::http::request::Parts) -> Response {
    if req.method != Method::GET && req.method != Method::HEAD {
        return not_a_delivery(&req.uri).into_response();
    }
    serve_delivery(state, &req.method, &req.uri, &req.headers)
        .await
        .unwrap_or_else(|e| e.for_delivery().into_response())
}

/// Other methods on a delivery path (`/{cloud}/{anything}`) are not
/// allowed; any other path does not exist.
fn not_a_delivery(uri: &Uri) -> ApiError {
    let path = uri.path().trim_start_matches('/');
    match path.split_once('/') {
        Some((cloud, rest)) if !cloud.is_empty() && !rest.is_empty() => {
            ApiError::method_not_allowed("GET, HEAD")
        }
        _ => ApiError::not_found("Not found"),
    }
}

async fn serve_delivery(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let path = uri.path().trim_start_matches('/');
    let hints = ClientHints::from_headers(
        header_str(headers, header::ACCEPT),
        header_str(headers, &SEC_CH_DPR).or_else(|| header_str(headers, &DPR)),
    );
    let d = state.service.deliver(path, &hints).await?;
    send_delivery(state, &d, method, headers).await
}

/// The response for a resolved delivery: validators, caching headers,
/// conditional and ranged requests.
pub(crate) async fn send_delivery(
    state: &AppState,
    d: &Delivery,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let text = &d.text;
    let etag = std::str::from_utf8(&text.etag).unwrap_or_default();
    let modified = d.modified_at();

    let mut resp = Response::builder();
    let h = resp.headers_mut().expect("builder is fresh");
    // Sized for every header below, so the map never regrows.
    *h = HeaderMap::with_capacity(16);
    h.insert(header::ETAG, shared(&text.etag));
    h.insert(header::LAST_MODIFIED, shared(&text.last_modified));
    h.insert(header::CACHE_CONTROL, shared(&text.cache_control));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(v) = &text.vary {
        h.insert(header::VARY, shared(v));
    }
    if let Some(v) = &text.disposition {
        h.insert(header::CONTENT_DISPOSITION, shared(v));
    }
    crate::error::delivery_cors(h);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Uploaded SVG and raw files must not run script in our origin.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );

    if not_modified(headers, etag, modified) {
        return Ok(resp
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("valid response"));
    }
    let total = u64::try_from(d.bytes).unwrap_or(0);
    let range = match requested_range(headers, etag, modified, total) {
        RangeRequest::Whole => None,
        RangeRequest::Part(r) => Some(r),
        RangeRequest::Unsatisfiable => {
            return Ok(resp
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{total}"))
                .body(Body::empty())
                .expect("valid response"));
        }
    };
    respond(state, d, resp, range, method == Method::HEAD).await
}

async fn respond(
    state: &AppState,
    d: &Delivery,
    mut resp: axum::http::response::Builder,
    range: Option<ByteRange>,
    head: bool,
) -> Result<Response, ApiError> {
    // A hot rendition is one buffer: sent as a full body, not a stream.
    let (body, served, total, whole_buffer) = match nubo_service::deliver::inline_part(d, range) {
        Some(part) => {
            let (bytes, r, total) = part?;
            (Body::from(bytes), r, total, true)
        }
        None => {
            let read = state.service.open_delivery(d, range).await?;
            (Body::from_stream(read.body), read.range, read.total, false)
        }
    };
    let read = Served {
        range: served,
        total,
    };
    let len = read.range.end - read.range.start;
    resp = resp.header(header::CONTENT_TYPE, shared(&d.text.content_type));
    if head || !whole_buffer {
        // A full in-memory body gets its length from hyper, which writes
        // it without allocating a header value.
        resp = resp.header(header::CONTENT_LENGTH, len);
    }
    if range.is_some() {
        resp = resp.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                read.range.start,
                read.range.end - 1,
                read.total
            ),
        );
    }
    let body = if head { Body::empty() } else { body };
    Ok(resp.body(body).expect("valid response"))
}

/// What part of the file a response carries.
struct Served {
    range: ByteRange,
    total: u64,
}

pub(crate) fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A header value over shared bytes: checked, not copied.
fn shared(b: &bytes::Bytes) -> HeaderValue {
    HeaderValue::from_maybe_shared(b.clone()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
fn not_modified(headers: &HeaderMap, etag: &str, modified: std::time::SystemTime) -> bool {
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return inm
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.trim_start_matches("W/") == etag);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| modified <= since)
}

#[derive(Debug, PartialEq)]
enum RangeRequest {
    Whole,
    Part(ByteRange),
    Unsatisfiable,
}

/// One `bytes=` range; several ranges, or a stale If-Range, get the whole body.
fn requested_range(
    headers: &HeaderMap,
    etag: &str,
    modified: std::time::SystemTime,
    total: u64,
) -> RangeRequest {
    let Some(spec) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return RangeRequest::Whole;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        let fresh =
            if_range == etag || httpdate::parse_http_date(if_range).is_ok_and(|d| d >= modified);
        if !fresh {
            return RangeRequest::Whole;
        }
    }
    let Some(set) = spec.trim().strip_prefix("bytes=") else {
        return RangeRequest::Whole;
    };
    if set.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((a, b)) = set.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let range = match (a.trim(), b.trim()) {
        ("", suffix) => match suffix.parse::<u64>() {
            Ok(0) | Err(_) => return RangeRequest::Unsatisfiable,
            Ok(n) => ByteRange {
                start: total.saturating_sub(n),
                end: total,
            },
        },
        (start, end) => {
            let Ok(start) = start.parse::<u64>() else {
                return RangeRequest::Whole;
            };
            let end = if end.is_empty() {
                total
            } else {
                match end.parse::<u64>() {
                    Ok(e) if e >= start => (e + 1).min(total),
                    _ => return RangeRequest::Whole,
                }
            };
            ByteRange { start, end }
        }
    };
    if range.start >= total || range.start >= range.end {
        RangeRequest::Unsatisfiable
    } else {
        RangeRequest::Part(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn range(spec: &str) -> RangeRequest {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, spec.parse().unwrap());
        requested_range(&h, "\"e\"", UNIX_EPOCH, 100)
    }

    #[test]
    fn range_table() {
        let part = |start, end| RangeRequest::Part(ByteRange { start, end });
        assert_eq!(range("bytes=0-9"), part(0, 10));
        assert_eq!(range("bytes=90-"), part(90, 100));
        assert_eq!(range("bytes=-5"), part(95, 100));
        assert_eq!(range("bytes=95-200"), part(95, 100));
        assert_eq!(range("bytes=100-"), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=-0"), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=0-1,5-6"), RangeRequest::Whole);
        assert_eq!(range("items=0-1"), RangeRequest::Whole);
        assert_eq!(range("bytes=5-1"), RangeRequest::Whole);
    }

    #[test]
    fn conditional_requests() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, "\"x\", \"e\"".parse().unwrap());
        assert!(not_modified(&h, "\"e\"", UNIX_EPOCH));
        h.insert(header::IF_NONE_MATCH, "\"x\"".parse().unwrap());
        h.insert(
            header::IF_MODIFIED_SINCE,
            httpdate::fmt_http_date(UNIX_EPOCH).parse().unwrap(),
        );
        assert!(
            !not_modified(&h, "\"e\"", UNIX_EPOCH),
            "If-None-Match decides when present"
        );
        h.remove(header::IF_NONE_MATCH);
        assert!(not_modified(&h, "\"e\"", UNIX_EPOCH));
        assert!(!not_modified(
            &h,
            "\"e\"",
            UNIX_EPOCH + Duration::from_secs(5)
        ));
    }
}
