//! The Admin API: `/v1_1/{cloud}/{area}/…` with Basic auth (or a bearer
//! token), JSON or form bodies, and `X-FeatureRateLimit-*` headers.
//!
//! The path arrives percent-decoded and split (the Node SDK encodes `/`
//! inside public ids and even `resources%2Fsearch`); public ids and folder
//! paths are the greedy tail.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nubo_core::{CloudName, ResourceType};
use nubo_service::admin::{AdminRequest, RateStatus, ResourcePath};
use nubo_service::{Service, ServiceError};
use serde_json::{json, Value};

use crate::body::read_request;
use crate::{auth, ApiError, AppState};

/// First path segments (after the cloud) that belong to the Admin API.
pub(crate) const AREAS: &[&str] = &[
    "ping",
    "usage",
    "config",
    "resources",
    "derived_resources",
    "tags",
    "transformations",
    "upload_presets",
    "folders",
    "metadata_fields",
    "metadata_rules",
    "streaming_profiles",
    "upload_mappings",
    "triggers",
    // Nubo's own: webhook deliveries and their attempts.
    "webhooks",
];

pub(crate) async fn dispatch(
    state: &AppState,
    req: Request,
    cloud: &str,
    segments: &[&str],
) -> Result<Response, ApiError> {
    let cloud = CloudName::parse(cloud).map_err(|e| ApiError::not_found(e.to_string()))?;
    let method = req.method().clone();
    let creds = auth::credentials(req.headers())?;
    let svc = &state.service;
    let (caller, rate) = match svc.admin_call(&cloud, &creds).await {
        Ok(ok) => ok,
        Err(e) => return Err(admin_error(e)),
    };
    let parsed = read_request(svc, req, state.settings.body_timeout, None).await?;
    let call = AdminRequest {
        cloud,
        params: parsed.params,
        caller,
    };
    let outcome = route(svc, &method, segments, &call).await;
    let reads_only = method == Method::GET || segments == ["resources", "search"];
    if !reads_only {
        // Writes change what delivery URLs resolve to (deletes, renames of
        // named transformations, …): drop this node's delivery cache.
        svc.note_write();
    }
    let mut resp = match outcome {
        Ok(body) => Json(body).into_response(),
        Err(e) => admin_error(e).into_response(),
    };
    rate_headers(resp.headers_mut(), rate);
    Ok(resp)
}

/// Admin errors: 409 for duplicates (the Upload API says 400), 420 with
/// the rate-limit headers when the budget is spent.
fn admin_error(e: ServiceError) -> ApiError {
    match &e {
        ServiceError::AlreadyExists(_) => ApiError::new(StatusCode::CONFLICT, e.to_string()),
        ServiceError::RateLimited(status) => {
            let mut err = ApiError::new(
                StatusCode::from_u16(420).expect("420 is a valid status"),
                e.to_string(),
            );
            err.rate = Some(*status);
            err
        }
        _ => ApiError::from(e),
    }
}

pub(crate) fn rate_headers(h: &mut HeaderMap, rate: RateStatus) {
    let reset = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(rate.reset_at.max(0) as u64),
    );
    for (name, value) in [
        ("x-featureratelimit-limit", rate.limit.to_string()),
        ("x-featureratelimit-remaining", rate.remaining.to_string()),
        ("x-featureratelimit-reset", reset),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

fn method_not_allowed() -> ServiceError {
    ServiceError::NotFound("No such Admin API method for this path".into())
}

fn resource_type(raw: &str) -> Result<ResourceType, ServiceError> {
    Ok(ResourceType::parse(raw)?)
}

async fn route(
    svc: &Service,
    method: &Method,
    segments: &[&str],
    call: &AdminRequest,
) -> Result<Value, ServiceError> {
    let get = *method == Method::GET;
    match segments {
        ["ping"] if get => Ok(json!({ "status": "ok" })),
        ["usage"] | ["usage", _] if get => svc.usage(call).await,
        ["config"] if get => svc.cloud_config(call).await,
        ["resources", "search"] if get || *method == Method::POST => svc.search(call).await,
        ["resources", rest @ ..] => {
            let path = ResourcePath::parse(rest)?;
            match *method {
                Method::GET => svc.get_resources(call, &path).await,
                Method::POST | Method::PUT => svc.update_resource(call, &path).await,
                Method::DELETE => svc.delete_resources(call, &path).await,
                _ => Err(method_not_allowed()),
            }
        }
        ["derived_resources"] if *method == Method::DELETE => {
            svc.delete_derived_resources(call).await
        }
        ["tags", rt] if get => svc.list_tags(call, resource_type(rt)?).await,
        ["transformations", rest @ ..] => transformations(svc, method, rest, call).await,
        ["upload_presets"] => match *method {
            Method::GET => svc.admin_presets(call).await,
            Method::POST => svc.admin_create_preset(call).await,
            _ => Err(method_not_allowed()),
        },
        ["upload_presets", name] => match *method {
            Method::GET => svc.admin_preset(call, name).await,
            Method::PUT | Method::POST => svc.admin_update_preset(call, name).await,
            Method::DELETE => svc.admin_delete_preset(call, name).await,
            _ => Err(method_not_allowed()),
        },
        ["webhooks"] if get => svc.admin_webhooks(call).await,
        ["webhooks", id] if get => svc.admin_webhook(call, id).await,
        ["webhooks", id, "retry"] if *method == Method::POST => {
            svc.admin_retry_webhook(call, id).await
        }
        ["folders"] if get => svc.admin_folders(call, "").await,
        ["folders", path @ ..] => {
            let path = path.join("/");
            match *method {
                Method::GET => svc.admin_folders(call, &path).await,
                Method::POST => svc.admin_create_folder(call, &path).await,
                Method::DELETE => svc.admin_delete_folder(call, &path).await,
                Method::PUT => svc.admin_rename_folder(call, &path).await,
                _ => Err(method_not_allowed()),
            }
        }
        ["metadata_fields", rest @ ..] => metadata_fields(svc, method, rest, call).await,
        [area, ..] if AREAS.contains(area) => Err(ServiceError::NotFound(format!(
            "The Admin API's {area} endpoints are not supported by this server"
        ))),
        _ => Err(ServiceError::NotFound(format!(
            "Unknown API endpoint /{}",
            segments.join("/")
        ))),
    }
}

async fn transformations(
    svc: &Service,
    method: &Method,
    rest: &[&str],
    call: &AdminRequest,
) -> Result<Value, ServiceError> {
    // Older SDKs put the name in the path; current ones in the body.
    let joined = rest.join("/");
    let name = (!rest.is_empty()).then_some(joined.as_str());
    match *method {
        Method::GET => match name.or(call.params.get("transformation")) {
            Some(which) => svc.admin_transformation(call, which).await,
            None => svc.admin_transformations(call).await,
        },
        Method::POST => svc.admin_create_transformation(call, name).await,
        Method::PUT => svc.admin_update_transformation(call, name).await,
        Method::DELETE => svc.admin_delete_transformation(call, name).await,
        _ => Err(method_not_allowed()),
    }
}

async fn metadata_fields(
    svc: &Service,
    method: &Method,
    rest: &[&str],
    call: &AdminRequest,
) -> Result<Value, ServiceError> {
    let (cloud, p) = (&call.cloud, &call.params);
    match (method.clone(), rest) {
        (Method::GET, []) => svc.admin_metadata_fields(cloud).await,
        (Method::POST, []) => svc.admin_create_metadata_field(cloud, p).await,
        (Method::GET, [id]) => svc.admin_metadata_field(cloud, id).await,
        (Method::PUT, [id]) => svc.admin_update_metadata_field(cloud, id, p).await,
        (Method::DELETE, [id]) => svc.admin_delete_metadata_field(cloud, id).await,
        (Method::PUT, [id, "datasource"]) => svc.admin_update_datasource(cloud, id, p).await,
        (Method::DELETE, [id, "datasource"]) => {
            svc.admin_set_entries_active(cloud, id, p, false).await
        }
        (Method::POST, [id, "datasource_restore"]) => {
            svc.admin_set_entries_active(cloud, id, p, true).await
        }
        _ => Err(method_not_allowed()),
    }
}
