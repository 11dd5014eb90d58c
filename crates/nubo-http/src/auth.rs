//! Reading credentials from headers: the one place this happens.

use axum::http::HeaderMap;
use base64::Engine;
use nubo_service::Credentials;

use crate::ApiError;

/// `Authorization: Basic …` or `Bearer …`; no header is `Credentials::None`.
pub fn credentials(headers: &HeaderMap) -> Result<Credentials, ApiError> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(Credentials::None);
    };
    let bad = || {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "Invalid Authorization header",
        )
    };
    let value = value.to_str().map_err(|_| bad())?.trim();
    let (scheme, rest) = value.split_once(' ').ok_or_else(bad)?;
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (key, secret) = text.split_once(':').ok_or_else(bad)?;
            Ok(Credentials::Basic {
                key: key.to_owned(),
                secret: secret.to_owned(),
            })
        }
        "bearer" if !rest.trim().is_empty() => Ok(Credentials::Bearer(rest.trim().to_owned())),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", value.parse().unwrap());
        h
    }

    #[test]
    fn schemes() {
        assert_eq!(credentials(&HeaderMap::new()).unwrap(), Credentials::None);
        assert_eq!(
            credentials(&with("Basic MTIzNDU2Nzg5MDphYmNkZWZnaGlqa2xtbm9w")).unwrap(),
            Credentials::Basic {
                key: "1234567890".into(),
                secret: "abcdefghijklmnop".into()
            }
        );
        assert_eq!(
            credentials(&with("Bearer tok")).unwrap(),
            Credentials::Bearer("tok".into())
        );
        assert!(credentials(&with("Basic !!!")).is_err());
        assert!(credentials(&with("Digest x")).is_err());
        assert!(credentials(&with("Bearer ")).is_err());
    }
}
