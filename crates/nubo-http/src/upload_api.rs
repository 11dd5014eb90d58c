//! The Upload API: `POST /v1_1/{cloud}/{rt}/{action}`.
//!
//! Paths are percent-decoded before routing, because the Node SDK encodes
//! `/` inside segments.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nubo_core::{CloudName, UploadResourceType};
use nubo_service::manage::ManageRequest;
use nubo_service::upload::{ChunkRange, UploadRequest};

use crate::body::read_request;
use crate::{auth, ApiError, AppState};

pub(crate) async fn dispatch(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, ApiError> {
    let raw = req
        .uri()
        .path()
        .strip_prefix("/v1_1/")
        .unwrap_or("")
        .to_owned();
    let path = percent_encoding::percent_decode_str(&raw)
        .decode_utf8()
        .map_err(|_| ApiError::bad_request("Invalid path encoding"))?
        .into_owned();
    let segments: Vec<&str> = path.split('/').collect();
    if let [cloud, rt, "tus", rest @ ..] = segments.as_slice() {
        if let (Ok(rt), [] | [_]) = (UploadResourceType::parse(rt), rest) {
            return crate::tus_api::dispatch(&state, req, cloud, rt, rest.first().copied()).await;
        }
    }
    if let [cloud, area, rest @ ..] = segments.as_slice() {
        if crate::admin_api::AREAS.contains(area) {
            let tail: Vec<&str> = std::iter::once(*area)
                .chain(rest.iter().copied().filter(|s| !s.is_empty()))
                .collect();
            return crate::admin_api::dispatch(&state, req, cloud, &tail).await;
        }
    }
    let (cloud, rt, action) = match segments.as_slice() {
        [cloud, "upload"] => (*cloud, UploadResourceType::Auto, "upload"),
        [cloud, "delete_by_token"] => (*cloud, UploadResourceType::Image, "delete_by_token"),
        [cloud, rt, action] if UploadResourceType::parse(rt).is_ok() => (
            *cloud,
            UploadResourceType::parse(rt).expect("checked"),
            *action,
        ),
        _ => {
            return Err(ApiError::not_found(format!(
                "Unknown API endpoint /v1_1/{path}"
            )))
        }
    };
    let action = Action::parse(action)
        .ok_or_else(|| ApiError::not_found(format!("Unknown Upload API action {action}")))?;
    if action == Action::Download {
        return download(&state, req, cloud, rt).await;
    }
    if req.method() != Method::POST {
        return Err(ApiError::new(
            axum::http::StatusCode::METHOD_NOT_ALLOWED,
            "Use POST for Upload API calls",
        ));
    }
    let cloud = CloudName::parse(cloud).map_err(|e| ApiError::not_found(e.to_string()))?;
    let headers = req.headers().clone();
    let creds = auth::credentials(&headers)?;
    let chunk = if action == Action::Upload {
        chunk_range(&headers)?
    } else {
        None
    };
    let svc = &state.service;
    // Refuse what the headers already decide before reading a byte of body.
    svc.precheck(&cloud, &creds).await?;
    let parsed = read_request(svc, req, state.settings.body_timeout, Some(&cloud)).await?;
    // Legacy browser form posts ask to be redirected with the result.
    let callback = match (action, parsed.params.get("callback")) {
        (Action::Upload, Some(url)) => Some(callback_url(url)?),
        _ => None,
    };
    let manage = |params| ManageRequest {
        cloud: cloud.clone(),
        resource_type: rt,
        params,
        creds: creds.clone(),
    };
    let outcome = async {
        Ok::<_, nubo_service::ServiceError>(match action {
            Action::Upload => {
                let upload = UploadRequest {
                    cloud: cloud.clone(),
                    resource_type: rt,
                    params: parsed.params,
                    creds: creds.clone(),
                    file: parsed.file,
                };
                match chunk {
                    Some(range) => svc.upload_chunk(upload, range).await?,
                    None => svc.upload(upload).await?,
                }
            }
            Action::Destroy => svc.destroy(manage(parsed.params)).await?,
            Action::Rename => svc.rename(manage(parsed.params)).await?,
            Action::Explicit => svc.explicit(manage(parsed.params)).await?,
            Action::Tags => svc.tags(manage(parsed.params)).await?,
            Action::Context => svc.context(manage(parsed.params)).await?,
            Action::Metadata => svc.metadata(manage(parsed.params)).await?,
            Action::DeleteByToken => svc.delete_by_token(&cloud, &parsed.params).await?,
            Action::Text => svc.text(manage(parsed.params)).await?,
            Action::Download => unreachable!("answered above"),
        })
    }
    .await;
    // Every action but download may change what delivery URLs resolve to,
    // failed ones included (an upload can fail after its commit).
    svc.note_write();
    let result = outcome?;
    if let Some(target) = callback {
        return Ok(redirect_with(target, &result));
    }
    Ok(Json(result).into_response())
}

/// `callback`: an absolute http(s) URL to send the browser to.
fn callback_url(raw: &str) -> Result<url::Url, ApiError> {
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        _ => Err(ApiError::bad_request(format!("Invalid callback URL {raw}"))),
    }
}

/// A 303 to the callback with the upload response's fields in the query
/// (scalars as they are, lists joined with commas), as Cloudinary does for
/// form posts that cannot read a cross-origin answer.
fn redirect_with(mut target: url::Url, result: &serde_json::Value) -> Response {
    {
        let mut q = target.query_pairs_mut();
        for (k, v) in result.as_object().into_iter().flatten() {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            q.append_pair(k, &text);
        }
    }
    let mut resp = axum::http::StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(target.as_str()) {
        resp.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    resp
}

/// The Upload API actions Nubo serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Upload,
    Destroy,
    Rename,
    Explicit,
    Tags,
    Context,
    Metadata,
    DeleteByToken,
    Download,
    Text,
}

impl Action {
    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            // `upload_chunked` is the OpenAPI spelling of a chunked `upload`.
            "upload" | "upload_chunked" => Action::Upload,
            "destroy" => Action::Destroy,
            "rename" => Action::Rename,
            "explicit" => Action::Explicit,
            "tags" => Action::Tags,
            "context" => Action::Context,
            "metadata" => Action::Metadata,
            "delete_by_token" => Action::DeleteByToken,
            "download" => Action::Download,
            "text" => Action::Text,
            _ => return None,
        })
    }
}

/// `GET /v1_1/{cloud}/{rt}/download?…&signature=…`: a signed, expiring
/// link to an original (usually private), served like a delivery.
async fn download(
    state: &AppState,
    req: Request,
    cloud: &str,
    rt: UploadResourceType,
) -> Result<Response, ApiError> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::new(
            axum::http::StatusCode::METHOD_NOT_ALLOWED,
            "Use GET for download",
        ));
    }
    let cloud = CloudName::parse(cloud).map_err(|e| ApiError::not_found(e.to_string()))?;
    let method = req.method().clone();
    let headers = req.headers().clone();
    let creds = auth::credentials(&headers)?;
    let params = crate::body::query_params(req.uri());
    let d = state
        .service
        .download(ManageRequest {
            cloud,
            resource_type: rt,
            params,
            creds,
        })
        .await?;
    crate::delivery::send_delivery(state, &d, &method, &headers).await
}

/// The chunk a request carries (`upload_large`): `Content-Range` with
/// `X-Unique-Upload-Id`. A request whose one chunk is the whole file is a
/// plain upload.
fn chunk_range(headers: &HeaderMap) -> Result<Option<ChunkRange>, ApiError> {
    let Some(raw) = headers.get("content-range") else {
        return Ok(None);
    };
    let (first, last, total) = raw
        .to_str()
        .ok()
        .and_then(parse_content_range)
        .ok_or_else(|| ApiError::bad_request("Invalid Content-Range"))?;
    let upload_id = headers
        .get("x-unique-upload-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let range = ChunkRange {
        upload_id,
        first,
        last,
        total,
    };
    if range.is_whole() {
        return Ok(None);
    }
    if range.upload_id.is_empty() {
        return Err(ApiError::bad_request(
            "Chunked uploads need an X-Unique-Upload-Id header",
        ));
    }
    Ok(Some(range))
}

/// `bytes first-last/total`, total `-1` (Node) meaning unknown.
fn parse_content_range(raw: &str) -> Option<(u64, u64, Option<u64>)> {
    let spec = raw.trim().strip_prefix("bytes ")?;
    let (range, total) = spec.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let total = if total == "-1" {
        None
    } else {
        Some(total.parse().ok()?)
    };
    Some((first.parse().ok()?, last.parse().ok()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 0-66/67"),
            Some((0, 66, Some(67)))
        );
        assert_eq!(parse_content_range("bytes 2-3/-1"), Some((2, 3, None)));
        assert_eq!(parse_content_range("bytes x"), None);
        let mut h = HeaderMap::new();
        h.insert("content-range", "bytes 0-66/67".parse().unwrap());
        assert_eq!(
            chunk_range(&h).unwrap(),
            None,
            "one chunk is the whole file"
        );
        h.insert("content-range", "bytes 0-1/5".parse().unwrap());
        assert!(chunk_range(&h).is_err(), "no upload id");
        h.insert("x-unique-upload-id", "abc".parse().unwrap());
        assert_eq!(
            chunk_range(&h).unwrap().unwrap(),
            ChunkRange {
                upload_id: "abc".into(),
                first: 0,
                last: 1,
                total: Some(5)
            }
        );
        h.insert("content-range", "bytes nonsense".parse().unwrap());
        assert!(chunk_range(&h).is_err());
    }
}
