//! Building the `url` and `secure_url` of assets.

use nubo_catalog::Asset;
use nubo_core::ResourceType;

/// The public base URLs responses point at.
#[derive(Debug, Clone)]
pub struct PublicUrls {
    /// `secure_url` base: the configured public URL, as is.
    secure: String,
    /// `url` base: the same host over http.
    plain: String,
}

impl PublicUrls {
    /// `base` is an absolute http(s) URL without a trailing slash.
    pub fn new(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        let plain = match base.strip_prefix("https://") {
            Some(rest) => format!("http://{rest}"),
            None => base.clone(),
        };
        Self {
            secure: base,
            plain,
        }
    }

    /// `(url, secure_url)` of an asset's original at its current version,
    /// with an optional transformation and extension override.
    pub fn of_asset(&self, asset: &Asset, transformation: Option<&str>) -> (String, String) {
        let path = delivery_path(asset, transformation);
        (
            format!("{}{path}", self.plain),
            format!("{}{path}", self.secure),
        )
    }
}

/// `/{cloud}/{rt}/{type}/[{transformation}/]v{version}/{public_id}[.{format}]`
pub fn delivery_path(asset: &Asset, transformation: Option<&str>) -> String {
    let scope = &asset.loc.scope;
    let mut path = format!(
        "/{}/{}/{}/",
        scope.cloud, scope.resource_type, scope.delivery_type
    );
    if let Some(t) = transformation.filter(|t| !t.is_empty()) {
        path.push_str(t);
        path.push('/');
    }
    path.push_str(&format!("v{}/", asset.version));
    path.push_str(&escape_public_id(asset.loc.public_id.as_str()));
    if scope.resource_type != ResourceType::Raw {
        if let Some(format) = &asset.format {
            path.push('.');
            path.push_str(format);
        }
    }
    path
}

/// Percent-encodes a public id the way the Python SDK does: everything but
/// `[A-Za-z0-9_.\-/:]`, as UTF-8 bytes in uppercase hex.
pub fn escape_public_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_python_sdk() {
        assert_eq!(
            escape_public_id("folder/ünï cödé & x?"),
            "folder/%C3%BCn%C3%AF%20c%C3%B6d%C3%A9%20%26%20x%3F"
        );
        assert_eq!(escape_public_id("a-b_c.d/e:f"), "a-b_c.d/e:f");
    }

    #[test]
    fn plain_and_secure_bases() {
        let u = PublicUrls::new("https://media.example.com/");
        assert_eq!(u.plain, "http://media.example.com");
        assert_eq!(u.secure, "https://media.example.com");
        let dev = PublicUrls::new("http://127.0.0.1:8080");
        assert_eq!(dev.plain, dev.secure);
    }
}
