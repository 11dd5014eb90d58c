//! Cloudinary's signatures: API requests, API responses, delivery URLs.
//! Every comparison of a signature is constant-time.

use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The hash a signature uses. Clients choose; the length tells which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    Sha1,
    Sha256,
}

impl SignatureAlgorithm {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            SignatureAlgorithm::Sha1 => Sha1::digest(data).to_vec(),
            SignatureAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// SHA-1 signatures are 40 hex characters, SHA-256 ones 64.
    fn of_hex_len(len: usize) -> Option<Self> {
        match len {
            40 => Some(SignatureAlgorithm::Sha1),
            64 => Some(SignatureAlgorithm::Sha256),
            _ => None,
        }
    }
}

/// Parameters that are never signed, for every action.
const NEVER_SIGNED: &[&str] = &[
    "signature",
    "api_key",
    "file",
    "cloud_name",
    "resource_type",
];
/// Sent but unsigned on the `tags`, `context` and `metadata` actions.
const UNSIGNED_ON_EDIT_ACTIONS: &[&str] = &["notification_url", "batch_id"];

/// The string the client signed, from the collapsed request fields.
/// `escape_ampersands` selects signature version 2 (the default) over 1.
pub fn string_to_sign(
    action: &str,
    fields: &[(String, String)],
    escape_ampersands: bool,
) -> String {
    let edit_action = matches!(action, "tags" | "context" | "metadata");
    let mut parts: Vec<String> = fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && !NEVER_SIGNED.contains(&k.as_str()))
        .filter(|(k, _)| !(edit_action && UNSIGNED_ON_EDIT_ACTIONS.contains(&k.as_str())))
        .map(|(k, v)| {
            let pair = format!("{k}={v}");
            if escape_ampersands {
                pair.replace('&', "%26")
            } else {
                pair
            }
        })
        .collect();
    parts.sort();
    parts.join("&")
}

/// `hex(H(to_sign + secret))`.
pub fn sign_hex(to_sign: &str, secret: &str, algorithm: SignatureAlgorithm) -> String {
    hex::encode(algorithm.digest(format!("{to_sign}{secret}").as_bytes()))
}

/// Checks a hex request signature in constant time, with the algorithm its
/// length implies. Signature version 1 (no `&` escaping) is accepted too,
/// when it differs, for old SDKs and `signature_version=1` configs.
pub fn verify_request(
    action: &str,
    fields: &[(String, String)],
    signature: &str,
    secret: &str,
) -> bool {
    let Some(algorithm) = SignatureAlgorithm::of_hex_len(signature.len()) else {
        return false;
    };
    let provided = signature.to_ascii_lowercase();
    let v2 = string_to_sign(action, fields, true);
    let v1 = string_to_sign(action, fields, false);
    let mut ok = constant_time_eq(&sign_hex(&v2, secret, algorithm), &provided);
    if v1 != v2 {
        ok |= constant_time_eq(&sign_hex(&v1, secret, algorithm), &provided);
    }
    ok
}

/// The `signature` field of upload responses: version 1 over public id and version.
pub fn response_signature(
    public_id: &str,
    version: i64,
    secret: &str,
    algorithm: SignatureAlgorithm,
) -> String {
    sign_hex(
        &format!("public_id={public_id}&version={version}"),
        secret,
        algorithm,
    )
}

/// The `s--XXXXXXXX--` delivery signature: URL-safe base64 of the raw
/// digest, 8 characters (SHA-1) or 32 (SHA-256, `long_url_signature`).
pub fn url_signature(
    to_sign: &str,
    secret: &str,
    algorithm: SignatureAlgorithm,
    long: bool,
) -> String {
    let digest = algorithm.digest(format!("{to_sign}{secret}").as_bytes());
    let encoded = base64::engine::general_purpose::URL_SAFE.encode(digest);
    encoded[..if long { 32 } else { 8 }].to_owned()
}

/// Checks a delivery signature against every form a client may have used.
pub fn verify_url_signature(to_sign: &str, signature: &str, secret: &str) -> bool {
    let candidates: &[(SignatureAlgorithm, bool)] = match signature.len() {
        8 => &[
            (SignatureAlgorithm::Sha1, false),
            (SignatureAlgorithm::Sha256, false),
        ],
        32 => &[(SignatureAlgorithm::Sha256, true)],
        _ => return false,
    };
    candidates.iter().fold(false, |ok, (alg, long)| {
        ok | constant_time_eq(&url_signature(to_sign, secret, *alg, *long), signature)
    })
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "abcdefghijklmnop";

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn simplest_captured_vectors() {
        let f = fields(&[("timestamp", "1700000000"), ("api_key", "1234567890")]);
        let s = string_to_sign("upload", &f, true);
        assert_eq!(s, "timestamp=1700000000");
        assert_eq!(
            sign_hex(&s, SECRET, SignatureAlgorithm::Sha1),
            "69259bd46844c7d68ce55c48c72ceafb5f3e9ef5"
        );
        assert_eq!(
            sign_hex(&s, SECRET, SignatureAlgorithm::Sha256),
            "6d31a72cb196d68ed1931a6d8ba617e7c91c82b1f89f0029676b63cfd51a9e33"
        );
        assert!(verify_request(
            "upload",
            &f,
            "69259bd46844c7d68ce55c48c72ceafb5f3e9ef5",
            SECRET
        ));
        assert!(verify_request(
            "upload",
            &f,
            "6d31a72cb196d68ed1931a6d8ba617e7c91c82b1f89f0029676b63cfd51a9e33",
            SECRET
        ));
        assert!(!verify_request(
            "upload",
            &f,
            "69259bd46844c7d68ce55c48c72ceafb5f3e9ef6",
            SECRET
        ));
        assert!(!verify_request("upload", &f, "short", SECRET));
    }

    #[test]
    fn many_options_captured_vector() {
        let f = fields(&[
            (
                "access_control",
                r#"[{"access_type":"anonymous","start":"2024-01-01T00:00:00Z"}]"#,
            ),
            ("allowed_formats", "jpg,png"),
            ("context", r"alt=Hello \= world|caption=x\|y"),
            ("eager", "c_fill,h_100,w_100|c_scale,w_50/webp"),
            ("eager_async", "1"),
            ("face_coordinates", "10,20,30,40|1,2,3,4"),
            ("folder", "f"),
            ("headers", "X-Robots-Tag: noindex"),
            ("invalidate", "1"),
            ("metadata", "sku=123"),
            ("notification_url", "http://x/hook"),
            ("overwrite", "0"),
            ("public_id", "folder1/my_pic"),
            ("return_delete_token", "1"),
            ("tags", "a,b"),
            ("timestamp", "1700000000"),
            ("transformation", "c_limit,w_500"),
            ("type", "upload"),
            ("unique_filename", "0"),
            ("use_filename", "1"),
            ("file", "ignored"),
            ("api_key", "1234567890"),
        ]);
        let s = string_to_sign("upload", &f, true);
        assert_eq!(
            sign_hex(&s, SECRET, SignatureAlgorithm::Sha1),
            "8cd627c3bcae4e3bb10b9e788aaa5be6086f5587"
        );
    }

    #[test]
    fn ampersands_are_escaped_in_version_2() {
        let f = fields(&[
            ("public_id", "a&b"),
            ("tags", "x,y"),
            ("overwrite", "1"),
            ("timestamp", "1700000000"),
        ]);
        assert_eq!(
            string_to_sign("upload", &f, true),
            "overwrite=1&public_id=a%26b&tags=x,y&timestamp=1700000000"
        );
        // Version 1 signatures are accepted as well.
        let v1 = sign_hex(
            &string_to_sign("upload", &f, false),
            SECRET,
            SignatureAlgorithm::Sha1,
        );
        assert!(verify_request("upload", &f, &v1, SECRET));
    }

    #[test]
    fn tags_action_leaves_notification_url_unsigned() {
        let f = fields(&[
            ("command", "add"),
            ("public_ids", "id1,id2"),
            ("tag", "mytag"),
            ("timestamp", "1700000000"),
            ("notification_url", "http://x"),
        ]);
        assert_eq!(
            string_to_sign("tags", &f, true),
            "command=add&public_ids=id1,id2&tag=mytag&timestamp=1700000000"
        );
        assert!(string_to_sign("upload", &f, true).contains("notification_url"));
    }

    #[test]
    fn response_signature_vector() {
        assert_eq!(
            response_signature("sample", 1712345678, SECRET, SignatureAlgorithm::Sha1),
            "ecc9a10234cb1c4415f28654af06e08c6a922c1f"
        );
    }

    #[test]
    fn url_signature_vectors() {
        assert_eq!(
            url_signature("sample.jpg", SECRET, SignatureAlgorithm::Sha1, false),
            "vn1BXHfS"
        );
        assert_eq!(
            url_signature(
                "c_fill,h_100,w_100/sample.jpg",
                SECRET,
                SignatureAlgorithm::Sha1,
                false
            ),
            "iZWrxV9l"
        );
        // Vectors produced by the Python SDK 1.46.3 (long_url_signature, sha256).
        assert_eq!(
            url_signature("sample.jpg", SECRET, SignatureAlgorithm::Sha256, true),
            "7pXRb9KvollhjwgyyXO5I11vzWBFFxvX"
        );
        assert_eq!(
            url_signature("secret.jpg", SECRET, SignatureAlgorithm::Sha1, false),
            "LZgXRkY0"
        );
        assert!(verify_url_signature("sample.jpg", "vn1BXHfS", SECRET));
        assert!(verify_url_signature("sample.jpg", "7pXRb9Kv", SECRET));
        assert!(verify_url_signature(
            "sample.jpg",
            "7pXRb9KvollhjwgyyXO5I11vzWBFFxvX",
            SECRET
        ));
        assert!(!verify_url_signature("sample.jpg", "vn1BXHfT", SECRET));
    }
}
