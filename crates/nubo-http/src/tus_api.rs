//! tus 1.0 at `/v1_1/{cloud}/{rt}/tus[/{id}]`: `OPTIONS` (discovery),
//! `POST` (creation, with an optional first body), `HEAD` (offset),
//! `PATCH` (bytes), `DELETE` (termination), and `GET` for the upload
//! response of a finished upload. Every answer carries `Tus-Resumable`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use nubo_core::{CloudName, UploadResourceType};
use nubo_service::upload::{parse_upload_metadata, TusCreate, TusState};
use nubo_service::ServiceError;

use crate::delivery::header_str;
use crate::{auth, ApiError, AppState};

const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration";
const OCTETS: &str = "application/offset+octet-stream";

pub(crate) async fn dispatch(
    state: &AppState,
    req: Request,
    cloud: &str,
    rt: UploadResourceType,
    id: Option<&str>,
) -> Result<Response, ApiError> {
    let svc = &state.service;
    let resumable = req
        .headers()
        .get("tus-resumable")
        .and_then(|v| v.to_str().ok());
    if resumable != Some(VERSION) {
        let mut resp = ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "Tus-Resumable: 1.0.0 is required",
        )
        .into_response();
        put(resp.headers_mut(), "tus-version", VERSION);
        return Ok(tus(resp));
    }
    let is_octets =
        header_str(req.headers(), "content-type").is_some_and(|t| t.starts_with(OCTETS));
    if req.method() == Method::PATCH && !is_octets {
        let msg = format!("PATCH needs Content-Type: {OCTETS}");
        return Ok(tus(
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, msg).into_response()
        ));
    }
    let cloud = CloudName::parse(cloud).map_err(|e| ApiError::not_found(e.to_string()))?;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let result = match (req.method().clone(), id) {
        (Method::POST, None) => create(state, req, cloud, rt).await,
        (Method::HEAD, Some(id)) => svc.tus_state(&cloud, id).await.map(|s| {
            let mut resp = StatusCode::OK.into_response();
            headers(resp.headers_mut(), &s);
            put(resp.headers_mut(), "cache-control", "no-store");
            resp
        }),
        (Method::PATCH, Some(id)) => patch(state, req, &cloud, id).await,
        (Method::DELETE, Some(id)) => svc
            .tus_terminate(&cloud, id)
            .await
            .map(|()| StatusCode::NO_CONTENT.into_response()),
        (Method::GET, Some(id)) => svc
            .tus_result(&cloud, id)
            .await
            .map(|v| Json(v).into_response()),
        _ => Err(ServiceError::NotFound("No such tus request".into())),
    };
    if writes {
        // A finished upload is a new asset: drop this node's delivery cache.
        svc.note_write();
    }
    Ok(tus(match result {
        Ok(resp) => resp,
        Err(ServiceError::OffsetMismatch { expected, got }) => ApiError::new(
            StatusCode::CONFLICT,
            format!("Upload-Offset {got} does not match the upload's offset {expected}"),
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }))
}

/// `OPTIONS` on a tus path: the CORS layer answers it (browsers send it as
/// a preflight); this adds what tus clients discover from it.
pub(crate) async fn discovery(req: Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    let tus_path = path.ends_with("/tus") || path.contains("/tus/") || path.contains("%2Ftus");
    let options = req.method() == Method::OPTIONS;
    let mut resp = next.run(req).await;
    if options && tus_path {
        let h = resp.headers_mut();
        put(h, "tus-version", VERSION);
        put(h, "tus-extension", EXTENSIONS);
        resp = tus(resp);
    }
    resp
}

async fn create(
    state: &AppState,
    req: Request,
    cloud: CloudName,
    rt: UploadResourceType,
) -> Result<Response, ServiceError> {
    let svc = &state.service;
    let h = req.headers();
    if h.contains_key("upload-defer-length") {
        return Err(ServiceError::InvalidParam(
            "Upload-Defer-Length is not supported: give Upload-Length".into(),
        ));
    }
    let length: u64 = header_str(h, "upload-length")
        .and_then(|v| v.parse().ok())
        .ok_or(ServiceError::MissingParam("Upload-Length"))?;
    let metadata = parse_upload_metadata(header_str(h, "upload-metadata").unwrap_or(""))?;
    let creds = auth::credentials(h).map_err(|e| ServiceError::Unauthorized(e.message))?;
    let with_body = header_str(h, "content-type").is_some_and(|t| t.starts_with(OCTETS));
    let base = req.uri().path().trim_end_matches('/').to_owned();
    let mut s = svc
        .tus_create(TusCreate {
            cloud: cloud.clone(),
            resource_type: rt,
            length,
            metadata,
            creds,
        })
        .await?;
    let location = format!("{base}/{}", s.upload_id);
    if with_body {
        let body = spool(state, req.into_body(), length).await?;
        s = svc.tus_append(&cloud, &s.upload_id, 0, body).await?;
    }
    let mut resp = StatusCode::CREATED.into_response();
    headers(resp.headers_mut(), &s);
    put(resp.headers_mut(), "location", &location);
    Ok(resp)
}

async fn patch(
    state: &AppState,
    req: Request,
    cloud: &CloudName,
    id: &str,
) -> Result<Response, ServiceError> {
    let h = req.headers();
    let offset: u64 = header_str(h, "upload-offset")
        .and_then(|v| v.parse().ok())
        .ok_or(ServiceError::MissingParam("Upload-Offset"))?;
    let current = state.service.tus_state(cloud, id).await?;
    let room = current.length.saturating_sub(offset);
    let body = spool(state, req.into_body(), room).await?;
    let s = state.service.tus_append(cloud, id, offset, body).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    headers(resp.headers_mut(), &s);
    Ok(resp)
}

/// Streams a body to the spool (hashed on the way), at most `limit` bytes,
/// within the body timeout.
async fn spool(
    state: &AppState,
    body: Body,
    limit: u64,
) -> Result<nubo_blob::SpooledFile, ServiceError> {
    let svc = &state.service;
    let work = async {
        let mut w = svc.blobs().spool().writer(limit).await?;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| ServiceError::InvalidParam(format!("Could not read the body: {e}")))?;
            w.write(chunk).await?;
        }
        Ok::<_, ServiceError>(w.finish().await?)
    };
    match tokio::time::timeout(state.settings.body_timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(ServiceError::InvalidParam(
            "Request body was not received in time".into(),
        )),
    }
}

fn headers(h: &mut HeaderMap, s: &TusState) {
    put(h, "upload-offset", &s.offset.to_string());
    put(h, "upload-length", &s.length.to_string());
    let expires =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(s.expires_at.max(0) as u64);
    put(h, "upload-expires", &httpdate::fmt_http_date(expires));
}

fn tus(mut resp: Response) -> Response {
    put(resp.headers_mut(), "tus-resumable", VERSION);
    resp
}

fn put(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}
