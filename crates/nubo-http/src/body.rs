//! Request bodies in every encoding the SDKs send, merged with the query
//! string into [`Params`]. A multipart `file` part is streamed into the
//! spool (and hashed) chunk by chunk, so memory stays flat at any size.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use bytes::Bytes;
use nubo_core::CloudName;
use nubo_service::upload::FileInput;
use nubo_service::{Params, Service, ServiceError};

use crate::ApiError;

/// The fields and file of a request.
#[derive(Debug)]
pub struct ParsedRequest {
    pub params: Params,
    pub file: FileInput,
}

/// The query string's fields, in order (the SDKs may send any call's
/// parameters there).
pub(crate) fn query_params(uri: &axum::http::Uri) -> Params {
    let mut params = Params::new();
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        params.push(k.into_owned(), v.into_owned());
    }
    params
}

/// Reads query and body. The whole body must arrive within `timeout`.
/// With `cloud`, the fields that precede a file part are checked before the
/// file is spooled ([`Service::precheck_fields`]).
pub async fn read_request(
    service: &Service,
    req: Request,
    timeout: Duration,
    cloud: Option<&CloudName>,
) -> Result<ParsedRequest, ApiError> {
    let (parts, body) = req.into_parts();
    let mut parsed = ParsedRequest {
        params: query_params(&parts.uri),
        file: FileInput::Missing,
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let read = read_body(service, &content_type, body, &mut parsed, cloud);
    match tokio::time::timeout(timeout, read).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(ApiError::bad_request(
                "Request body was not received in time",
            ))
        }
    }
    // A text `file` field is moved out of the parameters: it is a source.
    if matches!(parsed.file, FileInput::Missing) {
        if let Some(text) = parsed.params.get("file").map(str::to_owned) {
            parsed.params.remove("file");
            parsed.file = FileInput::Text(text);
        }
    }
    Ok(parsed)
}

async fn read_body(
    service: &Service,
    content_type: &str,
    body: Body,
    out: &mut ParsedRequest,
    cloud: Option<&CloudName>,
) -> Result<(), ApiError> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let field_limit = service.limits().max_field_bytes;
    match mime.as_str() {
        "multipart/form-data" => read_multipart(service, content_type, body, out, cloud).await,
        "application/x-www-form-urlencoded" => {
            let bytes = collect_limited(body, field_limit).await?;
            for (k, v) in url::form_urlencoded::parse(&bytes) {
                out.params.push(k.into_owned(), v.into_owned());
            }
            Ok(())
        }
        "application/json" => {
            let bytes = collect_limited(body, field_limit).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(()); // Python sends this content type on bodiless GETs
            }
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))?;
            let serde_json::Value::Object(map) = value else {
                return Err(ApiError::bad_request(
                    "Invalid JSON body: expected an object",
                ));
            };
            for (k, v) in map {
                push_json(&mut out.params, &k, v);
            }
            Ok(())
        }
        _ => {
            // No (or an unknown) content type: accept an empty body only.
            let bytes = collect_limited(body, field_limit).await?;
            if bytes.is_empty() {
                Ok(())
            } else {
                Err(ApiError::bad_request(format!(
                    "Unsupported Content-Type {content_type:?}"
                )))
            }
        }
    }
}

/// JSON values in the string forms the upload API uses.
fn push_json(params: &mut Params, key: &str, value: serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => {}
        Value::String(s) => params.push(key, s),
        Value::Bool(b) => params.push(key, b.to_string()),
        Value::Number(n) => params.push(key, n.to_string()),
        Value::Array(items) => {
            for item in items {
                let text = match item {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                params.push(format!("{key}[]"), text);
            }
        }
        obj @ Value::Object(_) => params.push(key, obj.to_string()),
    }
}

async fn collect_limited(body: Body, limit: u64) -> Result<Bytes, ApiError> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is larger than {limit} bytes"),
            )
        } else {
            ApiError::bad_request(format!("Could not read the request body: {e}"))
        }
    })
}

async fn read_multipart(
    service: &Service,
    content_type: &str,
    body: Body,
    out: &mut ParsedRequest,
    cloud: Option<&CloudName>,
) -> Result<(), ApiError> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut text_budget = service.limits().max_field_bytes;
    let bad = |e: multer::Error| ApiError::bad_request(format!("Invalid multipart body: {e}"));
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" && field.file_name().is_some() {
            if !matches!(out.file, FileInput::Missing) {
                return Err(ApiError::bad_request(
                    "Only one file may be uploaded per request",
                ));
            }
            if let Some(cloud) = cloud {
                service.precheck_fields(cloud, &out.params).await?;
            }
            let filename = field.file_name().map(str::to_owned);
            let mut writer = service
                .blobs()
                .spool()
                .writer(service.limits().max_any_bytes())
                .await
                .map_err(ServiceError::from)?;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                writer.write(chunk).await.map_err(ServiceError::from)?;
            }
            let file = writer.finish().await.map_err(ServiceError::from)?;
            out.file = FileInput::Spooled { file, filename };
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            text_budget = text_budget.checked_sub(chunk.len() as u64).ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "Form fields are larger than the limit",
                )
            })?;
            value.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(value)
            .map_err(|_| ApiError::bad_request(format!("Field {name} is not UTF-8")))?;
        out.params.push(name, text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_become_upload_api_strings() {
        let mut p = Params::new();
        let v: serde_json::Value = serde_json::json!({
            "public_ids": ["a", "b"], "keep_original": true, "max_results": 5,
            "transformations": null, "context": {"k": "v"}
        });
        for (k, v) in v.as_object().unwrap().clone() {
            push_json(&mut p, &k, v);
        }
        assert_eq!(p.list("public_ids"), ["a", "b"]);
        assert_eq!(p.flag("keep_original").unwrap(), Some(true));
        assert_eq!(p.get("max_results"), Some("5"));
        assert!(!p.contains("transformations"));
        assert_eq!(p.get("context"), Some(r#"{"k":"v"}"#));
    }
}
