//! Delivery: `/{cloud}/{rt}/{type}/[s--sig--/][{transformation}/]*[v{n}/]{id}[.{ext}]`.
//! Originals are served as stored; anything else becomes a derived file
//! (see [`crate::derive`]), rendered once and served from the blob store
//! afterwards.

use nubo_blob::{BlobKey, BlobRead, ByteRange};
use nubo_catalog::{Asset, AssetLocator, AssetScope, Derived};
use nubo_core::{CloudName, DeliveryType, Format, PublicId, ResourceType};
pub use nubo_transform::ClientHints;
use nubo_transform::{Flag, Resolved, Transformation};

use crate::signing::verify_url_signature;
use crate::{Result, Service, ServiceError};

/// A delivery URL, parsed. Text fields keep the URL's escaping where the
/// signature needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUrl {
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub signature: Option<String>,
    /// What a signature covers: the raw path after `s--…--/`, minus `v{n}/`.
    pub signed_text: String,
    pub transformations: Vec<String>,
    pub version: Option<i64>,
    /// Public id plus extension, percent-decoded once.
    pub tail: String,
}

/// A path segment made only of `key_value` items with grammar keys (or
/// variables and conditions) is a transformation, never a folder.
fn is_transformation(segment: &str) -> bool {
    !segment.is_empty()
        && segment.split(',').all(|item| {
            item.starts_with('$')
                || item
                    .split_once('_')
                    .is_some_and(|(key, _)| nubo_transform::is_known_key(key))
        })
}

fn is_version(segment: &str) -> Option<i64> {
    let digits = segment.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn is_signature(segment: &str) -> Option<&str> {
    let sig = segment.strip_prefix("s--")?.strip_suffix("--")?;
    let ok = matches!(sig.len(), 8 | 32)
        && sig
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(sig)
}

/// Parses the raw (still percent-encoded) path after `/{cloud}/`.
pub fn parse_delivery_url(raw: &str) -> Result<DeliveryUrl> {
    let not_found = || ServiceError::NotFound(raw.to_owned());
    let mut segments = raw.split('/');
    let resource_type =
        ResourceType::parse(segments.next().unwrap_or("")).map_err(|_| not_found())?;
    let delivery_type =
        DeliveryType::parse(segments.next().unwrap_or("")).map_err(|_| not_found())?;
    let mut rest: Vec<&str> = segments.collect();
    let signature = match rest.first().and_then(|s| is_signature(s)) {
        Some(sig) => {
            let sig = sig.to_owned();
            rest.remove(0);
            Some(sig)
        }
        None => None,
    };
    if rest.is_empty() {
        return Err(not_found());
    }
    let mut transformations = Vec::new();
    let mut signed_parts = Vec::new();
    let mut i = 0;
    while i < rest.len() - 1 && is_transformation(rest[i]) {
        transformations.push(rest[i].to_owned());
        signed_parts.push(rest[i]);
        i += 1;
    }
    let mut version = None;
    if i < rest.len() - 1 {
        if let Some(v) = is_version(rest[i]) {
            version = Some(v);
            i += 1;
        }
    }
    let tail_raw = rest[i..].join("/");
    if tail_raw.is_empty() {
        return Err(not_found());
    }
    signed_parts.push(&tail_raw);
    let tail = percent_encoding::percent_decode_str(&tail_raw)
        .decode_utf8()
        .map_err(|_| not_found())?
        .into_owned();
    Ok(DeliveryUrl {
        resource_type,
        delivery_type,
        signature,
        signed_text: signed_parts.join("/"),
        transformations,
        version,
        tail,
    })
}

/// What to send for a delivery request.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The response's header values, ready to send.
    pub text: HeaderText,
    /// Unix seconds, for Last-Modified.
    pub modified: i64,
    pub bytes: i64,
    blob: BlobKey,
    /// The bytes themselves, for small files kept in the delivery cache.
    inline: Option<bytes::Bytes>,
}

/// A delivery's response header values, formatted once when it is
/// resolved and shared, so the edge sends them without formatting or
/// copying per request (a hot entry serves many).
#[derive(Debug, Clone)]
pub struct HeaderText {
    /// The `ETag` value, quoted: the strong validator, a content hash of
    /// the bytes served.
    pub etag: bytes::Bytes,
    pub last_modified: bytes::Bytes,
    pub content_type: bytes::Bytes,
    pub cache_control: bytes::Bytes,
    /// Request headers the response depends on.
    pub vary: Option<bytes::Bytes>,
    /// `Content-Disposition` for `fl_attachment`.
    pub disposition: Option<bytes::Bytes>,
}

impl HeaderText {
    fn new(
        content_type: &str,
        cache_control: &str,
        etag: &str,
        modified: i64,
        vary: Option<&str>,
        disposition: Option<&str>,
    ) -> HeaderText {
        let text = |s: &str| bytes::Bytes::copy_from_slice(s.as_bytes());
        HeaderText {
            etag: bytes::Bytes::from(format!("\"{etag}\"")),
            last_modified: bytes::Bytes::from(httpdate::fmt_http_date(unix_time(modified))),
            content_type: text(content_type),
            cache_control: text(cache_control),
            vary: vary.map(text),
            disposition: disposition.map(text),
        }
    }
}

fn unix_time(seconds: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

impl Delivery {
    /// When the served bytes were made.
    pub fn modified_at(&self) -> std::time::SystemTime {
        unix_time(self.modified)
    }

    pub(crate) fn inline_len(&self) -> usize {
        self.inline.as_ref().map_or(0, |b| b.len())
    }

    #[cfg(test)]
    pub(crate) fn for_tests(inline: usize) -> Delivery {
        Delivery {
            text: HeaderText::new("image/png", "", "", 0, None, None),
            modified: 0,
            bytes: inline as i64,
            blob: BlobKey::new_generation(&"ab".repeat(32)),
            inline: Some(bytes::Bytes::from(vec![0u8; inline])),
        }
    }
}

impl Service {
    /// Resolves a delivery path (`{cloud}/{rt}/{type}/…`, as requested,
    /// still percent-encoded) to the bytes the caller may read, rendering
    /// a derived file when the URL asks for one.
    pub async fn deliver(
        &self,
        path: &str,
        hints: &ClientHints,
    ) -> Result<std::sync::Arc<Delivery>> {
        if let Some(d) = self.hot.get(path, hints) {
            return Ok(d);
        }
        let not_found = || ServiceError::NotFound(path.to_owned());
        let (cloud, rest) = path.split_once('/').ok_or_else(not_found)?;
        let cloud = CloudName::parse(cloud).map_err(|_| not_found())?;
        let url = parse_delivery_url(rest)?;
        let generation = self.hot.generation();
        let mut d = self.resolve_delivery(&cloud, &url, hints).await?;
        if d.bytes <= crate::hot::INLINE_MAX as i64 {
            // Small files are served from memory while the entry lives.
            d.inline = self.read_blob(&d.blob).await.ok();
        }
        let d = std::sync::Arc::new(d);
        self.hot
            .put(path, hints, generation, std::sync::Arc::clone(&d));
        Ok(d)
    }

    async fn resolve_delivery(
        &self,
        cloud: &CloudName,
        url: &DeliveryUrl,
        hints: &ClientHints,
    ) -> Result<Delivery> {
        if !self.catalog.cloud_exists(cloud).await? {
            return Err(ServiceError::NotFound(url.tail.clone()));
        }
        let parsed = Transformation::from_segments(&url.transformations)?;
        let signed = match &url.signature {
            Some(_) => {
                self.check_url_signature(cloud, url).await?;
                true
            }
            None => false,
        };
        self.check_access(cloud, url, &parsed, signed).await?;
        let t = self.expand_named(cloud, &parsed).await?;
        let scope = AssetScope {
            cloud: cloud.clone(),
            resource_type: url.resource_type,
            delivery_type: url.delivery_type,
        };
        let (asset, ext) = match self.lookup(&scope, &url.tail).await {
            Err(ServiceError::NotFound(missing)) => match t.default_image() {
                Some(d) => self
                    .lookup(&scope, d)
                    .await
                    .map_err(|_| ServiceError::NotFound(missing))?,
                None => return Err(ServiceError::NotFound(missing)),
            },
            other => other?,
        };
        let requested = match ext.as_deref() {
            Some(e) => Some(Format::from_extension(e).ok_or_else(|| {
                ServiceError::InvalidParam(format!("Invalid extension in URL: {e}"))
            })?),
            None => None,
        };
        let stored = asset.format.as_deref().and_then(Format::from_extension);
        let disposition = attachment(&t, &asset, requested.or(stored));
        let neutral = is_pixel_neutral(&t) && (requested.is_none() || requested == stored);
        if neutral {
            return self.original(url, &asset, stored, disposition);
        }
        if url.resource_type != ResourceType::Image {
            return Err(ServiceError::Unsupported(format!(
                "Transformations of {} files are not supported by this server",
                url.resource_type.as_str()
            )));
        }
        let Some(original) = stored else {
            return Err(ServiceError::Unsupported(
                "This asset has no image format".into(),
            ));
        };
        let plan = Resolved::new(&t, requested, original, hints);
        let derived = self.derived_file(&asset, &plan).await?;
        let mut vary = Vec::new();
        if plan.vary.accept {
            vary.push("Accept");
        }
        if plan.vary.dpr {
            vary.push("DPR, Sec-CH-DPR");
        }
        let lifetime = cache_control(url, &asset, plan.reads_asset());
        derived_delivery(derived, vary, disposition, lifetime)
    }

    fn original(
        &self,
        url: &DeliveryUrl,
        asset: &Asset,
        stored: Option<Format>,
        disposition: Option<String>,
    ) -> Result<Delivery> {
        original_delivery(asset, stored, disposition, cache_control(url, asset, false))
    }

    /// Private originals and everything `authenticated` need a signature;
    /// with strict transformations, so does any transformation that is not
    /// a named one marked for strict use.
    async fn check_access(
        &self,
        cloud: &CloudName,
        url: &DeliveryUrl,
        t: &Transformation,
        signed: bool,
    ) -> Result<()> {
        if signed {
            return Ok(());
        }
        let needs_signature = match url.delivery_type {
            DeliveryType::Authenticated => true,
            DeliveryType::Private => t.is_empty(),
            DeliveryType::Upload | DeliveryType::Text => false,
        } || crate::layers::needs_signature(t);
        if needs_signature {
            return Err(ServiceError::Unauthorized(
                "Resource requires a signed URL".into(),
            ));
        }
        if self.settings.strict_transformations && !t.is_empty() {
            let only_named = t.components.iter().all(|c| {
                let mut rest = c.clone();
                rest.named.clear();
                !c.named.is_empty() && rest.is_empty()
            });
            let mut allowed = only_named;
            for name in t.named_refs() {
                allowed &= self
                    .catalog
                    .named_transformation(cloud, name)
                    .await?
                    .is_some_and(|n| n.allowed_for_strict);
            }
            if !allowed {
                return Err(ServiceError::Unauthorized(format!(
                    "Transformation {t} is not allowed: strict transformations are enabled"
                )));
            }
        }
        Ok(())
    }

    /// Expands `t_` references from the cloud's named transformations.
    pub(crate) async fn expand_named(
        &self,
        cloud: &CloudName,
        t: &Transformation,
    ) -> Result<Transformation> {
        if t.named_refs().is_empty() {
            return Ok(t.clone());
        }
        let defs: std::collections::HashMap<String, String> = self
            .catalog
            .list_named_transformations(cloud)
            .await?
            .into_iter()
            .map(|n| (n.name, n.definition))
            .collect();
        Ok(t.expand(&|name| defs.get(name).cloned())?)
    }

    /// Opens the bytes of a delivery, whole or a range.
    pub async fn open_delivery(&self, d: &Delivery, range: Option<ByteRange>) -> Result<BlobRead> {
        match inline_part(d, range) {
            None => Ok(self.blobs.open(&d.blob, range).await?),
            Some(part) => {
                let (part, r, total) = part?;
                Ok(BlobRead {
                    total,
                    range: r,
                    body: Box::pin(futures_util::stream::once(async move { Ok(part) })),
                })
            }
        }
    }
}

/// The requested bytes of a delivery held in memory (a hot rendition):
/// `None` when it is not, so the caller streams it from the blob store.
/// With the part, the range it covers and the whole size.
pub fn inline_part(
    d: &Delivery,
    range: Option<ByteRange>,
) -> Option<Result<(bytes::Bytes, ByteRange, u64)>> {
    let bytes = d.inline.as_ref()?;
    let total = bytes.len() as u64;
    let r = range.unwrap_or(ByteRange {
        start: 0,
        end: total,
    });
    if r.start > r.end || r.end > total {
        return Some(Err(nubo_blob::BlobError::BadRange {
            start: r.start,
            end: r.end,
            total,
        }
        .into()));
    }
    Some(Ok((
        bytes.slice(r.start as usize..r.end as usize),
        r,
        total,
    )))
}

impl Service {
    async fn check_url_signature(&self, cloud: &CloudName, url: &DeliveryUrl) -> Result<()> {
        let Some(sig) = &url.signature else {
            return Err(ServiceError::Unauthorized(
                "Resource requires a signed URL".into(),
            ));
        };
        let keys = self.catalog.list_api_keys(cloud).await?;
        // Try every active key in full, so timing does not reveal which matched.
        let ok = keys
            .iter()
            .filter(|k| k.revoked_at.is_none())
            .fold(false, |ok, k| {
                ok | verify_url_signature(&url.signed_text, sig, &k.secret)
            });
        if ok {
            Ok(())
        } else {
            Err(ServiceError::Unauthorized(format!(
                "Invalid signature s--{sig}--"
            )))
        }
    }

    /// The exact id first (raw files, ids with dots), then id plus extension.
    async fn lookup(&self, scope: &AssetScope, tail: &str) -> Result<(Asset, Option<String>)> {
        let not_found = || ServiceError::NotFound(tail.to_owned());
        if let Ok(id) = PublicId::parse(tail) {
            if let Some(a) = self
                .catalog
                .asset(&AssetLocator {
                    scope: scope.clone(),
                    public_id: id,
                })
                .await?
            {
                return Ok((a, None));
            }
        }
        if scope.resource_type == ResourceType::Raw {
            return Err(not_found());
        }
        let (stem, ext) = tail.rsplit_once('.').ok_or_else(not_found)?;
        let id = PublicId::parse(stem).map_err(|_| not_found())?;
        let asset = self
            .catalog
            .asset(&AssetLocator {
                scope: scope.clone(),
                public_id: id,
            })
            .await?
            .ok_or_else(not_found)?;
        Ok((asset, Some(ext.to_owned())))
    }
}

fn derived_delivery(
    d: Derived,
    vary: Vec<&str>,
    disposition: Option<String>,
    cache_control: String,
) -> Result<Delivery> {
    let content_type = Format::from_extension(&d.format).map_or("application/json", |f| f.mime());
    let blob = BlobKey::parse(&d.blob_key)?;
    let vary = (!vary.is_empty()).then(|| vary.join(", "));
    Ok(Delivery {
        text: HeaderText::new(
            content_type,
            &cache_control,
            &blob.sha256_hex()[..32],
            d.created_at,
            vary.as_deref(),
            disposition.as_deref(),
        ),
        modified: d.created_at,
        bytes: d.bytes,
        blob,
        inline: None,
    })
}

/// An original fetched through the signed download API: never cached by
/// shared caches.
pub(crate) fn private_original(
    asset: &Asset,
    stored: Option<Format>,
    disposition: Option<String>,
) -> Result<Delivery> {
    original_delivery(asset, stored, disposition, "private, no-store".into())
}

fn original_delivery(
    asset: &Asset,
    stored: Option<Format>,
    disposition: Option<String>,
    cache_control: String,
) -> Result<Delivery> {
    let content_type = match stored {
        Some(f) => f.mime(),
        None => raw_content_type(asset.loc.public_id.as_str()),
    };
    Ok(Delivery {
        text: HeaderText::new(
            content_type,
            &cache_control,
            &asset.etag,
            asset.created_at,
            None,
            disposition.as_deref(),
        ),
        modified: asset.created_at,
        bytes: asset.bytes,
        blob: BlobKey::parse(&asset.blob_key)?,
        inline: None,
    })
}

pub(crate) fn private_derived(d: Derived, disposition: Option<String>) -> Result<Delivery> {
    let blob = BlobKey::parse(&d.blob_key)?;
    let content_type =
        Format::from_extension(&d.format).map_or("application/octet-stream", |f| f.mime());
    Ok(Delivery {
        text: HeaderText::new(
            content_type,
            "private, no-store",
            &blob.sha256_hex()[..32],
            d.created_at,
            None,
            disposition.as_deref(),
        ),
        modified: d.created_at,
        bytes: d.bytes,
        blob,
        inline: None,
    })
}

/// True when the transformation changes no byte: only delivery flags.
fn is_pixel_neutral(t: &Transformation) -> bool {
    t.components.iter().all(|c| {
        let mut rest = c.clone();
        rest.flags
            .retain(|f| !matches!(f, Flag::Attachment(_) | Flag::ImmutableCache));
        rest.is_empty()
    })
}

/// `fl_attachment[:name]` as a `Content-Disposition` value.
fn attachment(t: &Transformation, asset: &Asset, format: Option<Format>) -> Option<String> {
    let name = t.flags().find_map(|f| match f {
        Flag::Attachment(n) => Some(n.clone()),
        _ => None,
    })?;
    Some(attachment_disposition(asset, name, format))
}

/// `attachment; filename="…"`: the given name or the id's last segment,
/// plus the extension of what is served (raw ids carry theirs).
pub(crate) fn attachment_disposition(
    asset: &Asset,
    name: Option<String>,
    format: Option<Format>,
) -> String {
    let id = asset.loc.public_id.as_str();
    let stem = name.unwrap_or_else(|| id.rsplit('/').next().unwrap_or(id).to_owned());
    let file = match (format, asset.loc.scope.resource_type) {
        (_, ResourceType::Raw) | (None, _) => stem,
        (Some(f), _) => format!("{stem}.{}", f.extension()),
    };
    // Quotes and controls cannot reach here (ids and flag names forbid
    // them); escape backslashes anyway.
    format!("attachment; filename=\"{}\"", file.replace('\\', "_"))
}

/// A URL naming the asset's current version never changes meaning, so it
/// is immutable; other URLs follow overwrites and get a short lifetime, as
/// do renderings that read the asset's tags, context or metadata
/// (`follows_data`), which change without a new version.
fn cache_control(url: &DeliveryUrl, asset: &Asset, follows_data: bool) -> String {
    let visibility = if url.delivery_type.is_public() {
        "public"
    } else {
        "private"
    };
    if url.version == Some(asset.version) && !follows_data {
        format!("{visibility}, max-age=31536000, immutable")
    } else {
        format!("{visibility}, max-age=3600")
    }
}

/// Content types for raw files: a short list of types that are safe to
/// render; everything else is a download.
fn raw_content_type(public_id: &str) -> &'static str {
    let ext = public_id
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_table() {
        // (path, transformations, version, tail, signed_text)
        let table = [
            (
                "image/upload/sample.jpg",
                0,
                None,
                "sample.jpg",
                "sample.jpg",
            ),
            (
                "image/upload/v1712345678/sample.jpg",
                0,
                Some(1712345678),
                "sample.jpg",
                "sample.jpg",
            ),
            (
                "image/upload/v1/folder/sample.jpg",
                0,
                Some(1),
                "folder/sample.jpg",
                "folder/sample.jpg",
            ),
            (
                "image/upload/c_fill,h_100,w_100/v1234/sample.jpg",
                1,
                Some(1234),
                "sample.jpg",
                "c_fill,h_100,w_100/sample.jpg",
            ),
            (
                "image/upload/c_fill,w_200/a_90/e_sepia/sample.jpg",
                3,
                None,
                "sample.jpg",
                "c_fill,w_200/a_90/e_sepia/sample.jpg",
            ),
            (
                "raw/upload/v1/docs/file.pdf",
                0,
                Some(1),
                "docs/file.pdf",
                "docs/file.pdf",
            ),
            (
                "image/upload/v1/folder/%C3%BCn%C3%AF%20x.jpg",
                0,
                Some(1),
                "folder/ünï x.jpg",
                "folder/%C3%BCn%C3%AF%20x.jpg",
            ),
            (
                "image/upload/my_folder/v2/x.png",
                0,
                None,
                "my_folder/v2/x.png",
                "my_folder/v2/x.png",
            ),
            ("image/upload/v12", 0, None, "v12", "v12"),
        ];
        for (path, n, version, tail, signed) in table {
            let u = parse_delivery_url(path).unwrap();
            assert_eq!(u.transformations.len(), n, "{path}");
            assert_eq!(u.version, version, "{path}");
            assert_eq!(u.tail, tail, "{path}");
            assert_eq!(u.signed_text, signed, "{path}");
        }
    }

    #[test]
    fn signature_component() {
        let u = parse_delivery_url("image/private/s--LZgXRkY0--/secret.jpg").unwrap();
        assert_eq!(u.signature.as_deref(), Some("LZgXRkY0"));
        assert_eq!(u.delivery_type, DeliveryType::Private);
        assert_eq!(u.signed_text, "secret.jpg");
        let long = parse_delivery_url(
            "image/upload/s--7pXRb9KvollhjwgyyXO5I11vzWBFFxvX--/c_fill/v1/a.jpg",
        )
        .unwrap();
        assert_eq!(
            long.signature.as_deref(),
            Some("7pXRb9KvollhjwgyyXO5I11vzWBFFxvX")
        );
        assert_eq!(long.signed_text, "c_fill/a.jpg");
    }

    #[test]
    fn unknown_types_and_empty_ids_are_not_found() {
        for bad in [
            "image/upload",
            "image",
            "",
            "video/nope/a.mp4",
            "images/upload/a.jpg",
            "image/upload/",
            "image/upload/v1/",
        ] {
            assert!(
                matches!(parse_delivery_url(bad), Err(ServiceError::NotFound(_))),
                "{bad}"
            );
        }
    }
}
