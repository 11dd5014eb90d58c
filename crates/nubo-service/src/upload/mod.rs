//! Ingest: the `upload` action, from request to committed asset.

use base64::Engine;
use nubo_blob::{BlobKey, SpooledFile};
use nubo_catalog::{
    Asset, AssetLocator, AssetScope, CommitOutcome, NewAsset, OverwritePolicy, PresetRecord,
};
use nubo_core::{
    random_id, CloudName, Context, DeliveryType, Folder, Format, PublicId, ResourceType, Tags,
    UploadResourceType,
};
use nubo_engine::{Probe, ProbeLimits};
use nubo_transform::Transformation;
use serde_json::{json, Map, Value};

use crate::{now, Caller, Credentials, Params, Result, Service, ServiceError};

/// The `file` of an upload, as the HTTP edge received it.
#[derive(Debug)]
pub enum FileInput {
    Missing,
    /// A file part, already spooled (and hashed) while it streamed in.
    Spooled {
        file: SpooledFile,
        filename: Option<String>,
    },
    /// A text field: a data URI or a remote URL.
    Text(String),
}

#[derive(Debug)]
pub struct UploadRequest {
    pub cloud: CloudName,
    pub resource_type: UploadResourceType,
    pub params: Params,
    pub creds: Credentials,
    pub file: FileInput,
}

/// Request parameters an unsigned upload may set; the preset decides the rest.
const UNSIGNED_ALLOWED: &[&str] = &[
    "public_id",
    "folder",
    "asset_folder",
    "public_id_prefix",
    "display_name",
    "tags",
    "context",
    "metadata",
    "face_coordinates",
    "custom_coordinates",
    "regions",
    "source",
    "filename_override",
    "callback",
    "upload_preset",
    "timestamp",
];

/// How long a delete token from `return_delete_token` stays valid.
const DELETE_TOKEN_SECONDS: i64 = 600;

/// An upload's options, parsed from the effective parameters.
#[derive(Debug)]
struct UploadCommand {
    public_id: Option<String>,
    folder: Folder,
    use_filename: bool,
    unique_filename: bool,
    filename_override: Option<String>,
    discard_original_filename: bool,
    delivery_type: DeliveryType,
    overwrite: bool,
    allowed_formats: Vec<String>,
    format: Option<String>,
    tags: Tags,
    context: Context,
    return_delete_token: bool,
    /// Incoming transformation, applied before storing.
    transformation: Transformation,
}

impl UploadCommand {
    fn parse(p: &Params, unsigned: bool) -> Result<Self> {
        let delivery_type = match p.get("type") {
            Some(t) => DeliveryType::parse(t)?,
            None => DeliveryType::Upload,
        };
        Ok(Self {
            public_id: p.get("public_id").map(str::to_owned),
            folder: Folder::parse(p.get("folder").unwrap_or("")),
            use_filename: p.flag("use_filename")?.unwrap_or(false),
            unique_filename: p.flag("unique_filename")?.unwrap_or(true),
            filename_override: p.get("filename_override").map(str::to_owned),
            discard_original_filename: p.flag("discard_original_filename")?.unwrap_or(false),
            delivery_type,
            overwrite: !unsigned && p.flag("overwrite")?.unwrap_or(true),
            allowed_formats: p
                .list("allowed_formats")
                .iter()
                .map(|f| f.to_ascii_lowercase())
                .collect(),
            format: p.get("format").map(str::to_ascii_lowercase),
            tags: Tags::from_vec(p.list("tags")),
            context: Context::parse(p.get("context").unwrap_or(""))?,
            return_delete_token: p.flag("return_delete_token")?.unwrap_or(false),
            transformation: Transformation::parse(p.get("transformation").unwrap_or(""))?,
        })
    }
}

/// What a commit left.
pub(crate) enum Committed {
    New(Asset),
    Replaced(Asset),
    /// An asset already there, kept (no overwrite).
    Kept(Asset),
}

/// What the bytes turned out to be, with the facts stored for them.
struct Identified {
    resource_type: ResourceType,
    format: Option<Format>,
    width: Option<i64>,
    height: Option<i64>,
    pages: Option<i64>,
    meta: Map<String, Value>,
}

impl Identified {
    /// A file stored as it is, with no media facts.
    fn raw() -> Self {
        Identified {
            resource_type: ResourceType::Raw,
            format: None,
            width: None,
            height: None,
            pages: None,
            meta: Map::new(),
        }
    }
}

impl Service {
    /// Runs an upload and returns the JSON response.
    pub async fn upload(&self, req: UploadRequest) -> Result<Value> {
        let caller = self
            .authorize_upload(&req.cloud, "upload", &req.params, &req.creds)
            .await?;
        let effective = self
            .effective_params(&req.cloud, &req.params, &caller)
            .await?;
        if effective.flag("async")?.unwrap_or(false) {
            return self.upload_in_background(&caller, req).await;
        }
        self.upload_as(caller, req).await
    }

    /// An upload whose caller was authorised already (a tus upload is
    /// authorised when it is created, possibly hours before it completes).
    pub(crate) async fn upload_as(&self, caller: Caller, req: UploadRequest) -> Result<Value> {
        let params = self
            .effective_params(&req.cloud, &req.params, &caller)
            .await?;
        let mut cmd = UploadCommand::parse(&params, caller.is_unsigned())?;
        cmd.transformation = self.expand_named(&req.cloud, &cmd.transformation).await?;
        let eager = self.prepare_eager(&req.cloud, params.get("eager")).await?;
        let breakpoints = params
            .get("responsive_breakpoints")
            .filter(|raw| !raw.is_empty())
            .map(crate::breakpoints::parse_specs)
            .transpose()?;
        let notify = self
            .notify_target(&req.cloud, params.get("notification_url"), &caller)
            .await?;
        let eager_async = self
            .eager_async_target(&req.cloud, &params, &caller, notify.as_ref())
            .await?;
        // Checked before the file is read: a bad value refuses the upload.
        let metadata = self
            .resolve_metadata(&req.cloud, None, params.get("metadata"), true, false)
            .await?
            .filter(|m| !m.is_empty());
        let mut coordinates = Vec::new();
        for key in ["face_coordinates", "custom_coordinates"] {
            if let Some(raw) = params.get(key) {
                let v = crate::coordinates::parse_coordinates(key, raw)?;
                if !v.is_null() {
                    coordinates.push((key, v));
                }
            }
        }
        let (spooled, source_name) = self.spool_source(req.file).await?;
        let identified = self.identify(&spooled, req.resource_type).await?;
        let original = original_filename(&cmd, source_name.as_deref());
        check_format(&cmd, &identified)?;
        let (spooled, identified) = match incoming(&cmd, &identified)? {
            Some((input, out)) => {
                let converted = self
                    .apply_incoming(
                        &req.cloud,
                        &spooled,
                        (input, out),
                        &cmd.transformation,
                        crate::conditions::data_of(&cmd.tags, &cmd.context, metadata.as_ref()),
                    )
                    .await?;
                let id = self.identify(&converted, req.resource_type).await?;
                (converted, id)
            }
            None => (spooled, identified),
        };
        let public_id = resolve_public_id(&cmd, &identified, source_name.as_deref())?;
        let loc = AssetLocator {
            scope: AssetScope {
                cloud: req.cloud.clone(),
                resource_type: identified.resource_type,
                delivery_type: cmd.delivery_type,
            },
            public_id,
        };
        let signer = self.signing_key(&req.cloud, &caller).await?;
        if !cmd.overwrite {
            if let Some(existing) = self.catalog.asset(&loc).await? {
                return Ok(existing_response(
                    self.asset_json(&existing, signer.as_ref()),
                ));
            }
        }
        let digest = spooled.digest().clone();
        let blob_key = self.store_blob(spooled).await?;
        let new = NewAsset {
            loc,
            format: identified.format.map(|f| f.extension().to_owned()),
            bytes: i64::try_from(digest.len).unwrap_or(i64::MAX),
            width: identified.width,
            height: identified.height,
            pages: identified.pages,
            etag: digest.md5_hex,
            original_filename: (!cmd.discard_original_filename).then_some(original),
            tags: cmd.tags.clone(),
            context: cmd.context.clone(),
            meta: {
                let mut meta = identified.meta;
                if let Some(m) = metadata {
                    meta.insert(nubo_catalog::METADATA_KEY.into(), Value::Object(m));
                }
                for (key, v) in coordinates {
                    meta.insert(key.into(), v);
                }
                meta
            },
            blob_key,
            now: now(),
        };
        let policy = if cmd.overwrite {
            OverwritePolicy::Replace
        } else {
            OverwritePolicy::KeepExisting
        };
        let (asset, overwritten) = match self.commit(new, policy).await? {
            Committed::Kept(a) => {
                return Ok(existing_response(self.asset_json(&a, signer.as_ref())))
            }
            Committed::New(a) => (a, false),
            Committed::Replaced(a) => (a, true),
        };
        let mut body = self.asset_json(&asset, signer.as_ref());
        if overwritten {
            body.insert("overwritten".into(), json!(true));
        }
        if !eager.is_empty() {
            let rendered = match &eager_async {
                Some(target) => {
                    self.queue_eager(&asset, params.get("eager"), &eager, target)
                        .await?
                }
                None => self.render_eager(&asset, &eager).await?,
            };
            body.insert("eager".into(), rendered);
        }
        if let Some(specs) = &breakpoints {
            let found = self.responsive_breakpoints(&asset, specs).await?;
            body.insert("responsive_breakpoints".into(), found);
        }
        // Analysis flags: computed from the stored original, as resource
        // details would.
        let want = crate::admin::Wanted::new(
            params.flag("colors")?.unwrap_or(false),
            params.flag("phash")?.unwrap_or(false),
            params.flag("exif")?.unwrap_or(false),
            params.flag("image_metadata")?.unwrap_or(false),
        )
        .with_faces(params.flag("faces")?.unwrap_or(false), &asset)
        .with_quality(params.flag("quality_analysis")?.unwrap_or(false));
        if let Err(e) = self.add_analysis(&want, &asset, &mut body).await {
            // The asset is stored; a failed analysis must not fail the upload.
            tracing::warn!(public_id = %asset.loc.public_id, error = %e, "analysis failed");
        }
        if cmd.return_delete_token {
            let token = hex::encode(rand::random::<[u8; 20]>());
            let expires = now() + DELETE_TOKEN_SECONDS;
            self.catalog
                .put_delete_token(&crate::auth::token_hash(&token), &asset.loc, expires)
                .await?;
            body.insert("delete_token".into(), json!(token));
        }
        if let Some(target) = &notify {
            let mut payload = body.clone();
            // The token deletes the asset: it is for the uploader only.
            payload.remove("delete_token");
            self.notify(&req.cloud, target, "upload", payload).await?;
        }
        Ok(Value::Object(body))
    }

    /// Commits a version; what it replaced is cleaned up: the old blob
    /// released, and the old renderings, which can never be served again,
    /// collected in the background.
    pub(crate) async fn commit(&self, new: NewAsset, policy: OverwritePolicy) -> Result<Committed> {
        Ok(match self.catalog.commit_asset(new, policy).await? {
            CommitOutcome::Created(a) => Committed::New(a),
            CommitOutcome::Existing(a) => Committed::Kept(a),
            CommitOutcome::Replaced {
                asset,
                previous_blob,
            } => {
                self.release_blob(&previous_blob).await;
                self.drop_derived_later(&asset, Some(asset.version)).await?;
                Committed::Replaced(asset)
            }
        })
    }

    /// The preset's settings overlaid with the request's, as the caller may.
    async fn effective_params(
        &self,
        cloud: &CloudName,
        request: &Params,
        caller: &Caller,
    ) -> Result<Params> {
        let preset: Option<PresetRecord> = match (caller, request.get("upload_preset")) {
            (Caller::Unsigned(p), _) => Some(p.clone()),
            (_, Some(name)) => Some(
                self.catalog
                    .preset(cloud, name)
                    .await?
                    .ok_or(ServiceError::PresetNotFound)?,
            ),
            (_, None) => None,
        };
        let Some(preset) = preset else {
            return Ok(request.clone());
        };
        let mut merged = Params::from_pairs(preset.settings.clone());
        let disallow_public_id = merged.flag("disallow_public_id")?.unwrap_or(false);
        let mut overrides = request.clone();
        if caller.is_unsigned() {
            overrides = Params::from_pairs(
                request
                    .iter()
                    .filter(|(k, _)| UNSIGNED_ALLOWED.contains(&k.trim_end_matches("[]"))),
            );
            if disallow_public_id {
                overrides.remove("public_id");
            }
        }
        for (name, _) in overrides.collapsed() {
            merged.remove(&name);
        }
        for (k, v) in overrides.iter() {
            merged.push(k, v);
        }
        Ok(merged)
    }

    /// Gets the bytes into a local spool file, whatever their source.
    async fn spool_source(&self, input: FileInput) -> Result<(SpooledFile, Option<String>)> {
        let limit = self.limits().max_any_bytes();
        match input {
            FileInput::Missing => Err(ServiceError::MissingParam("file")),
            FileInput::Spooled { file, filename } => Ok((file, filename)),
            FileInput::Text(text) if text.starts_with("data:") => {
                let bytes = decode_data_uri(&text)?;
                let mut w = self.blobs.spool().writer(limit).await?;
                w.write(bytes).await?;
                Ok((w.finish().await?, None))
            }
            FileInput::Text(text)
                if text.starts_with("http://") || text.starts_with("https://") =>
            {
                self.fetch_remote(&text, limit).await
            }
            FileInput::Text(text) => {
                let scheme = text
                    .split_once(':')
                    .map(|(s, _)| s)
                    .filter(|s| s.len() < 10);
                Err(match scheme {
                    Some(s @ ("ftp" | "s3" | "gs")) => ServiceError::Unsupported(format!(
                        "Remote {s}: sources are not supported; use http(s)"
                    )),
                    _ => ServiceError::InvalidParam(
                        "Invalid file: expected a file, a data URI or an http(s) URL".into(),
                    ),
                })
            }
        }
    }

    async fn fetch_remote(&self, url: &str, limit: u64) -> Result<(SpooledFile, Option<String>)> {
        use futures_util::StreamExt;
        let mut remote = self.fetcher.open(url, limit).await?;
        let mut w = self.blobs.spool().writer(limit).await?;
        while let Some(chunk) = remote.body.next().await {
            w.write(chunk?).await?;
        }
        let name = remote
            .final_url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .map(percent_decode);
        Ok((w.finish().await?, name))
    }

    /// Probes the bytes and checks them against the requested type and limits.
    async fn identify(
        &self,
        file: &SpooledFile,
        requested: UploadResourceType,
    ) -> Result<Identified> {
        let limits = ProbeLimits {
            max_pixels: self.limits().max_image_pixels,
            max_frames: self.limits().max_image_frames,
        };
        let path = file.path().to_owned();
        // A raw upload is stored whatever it is, even broken media: no probe.
        let probe = match requested {
            UploadResourceType::Raw => Ok(Probe::Unknown),
            _ => tokio::task::spawn_blocking(move || nubo_engine::probe_file(&path, limits))
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
        };
        let probe = match (requested, probe) {
            (UploadResourceType::Auto, Err(_)) => Probe::Unknown,
            (UploadResourceType::Image, Err(nubo_engine::ProbeError::Corrupt { .. })) => {
                return Err(ServiceError::InvalidImage)
            }
            (UploadResourceType::Video, Err(nubo_engine::ProbeError::Corrupt { .. })) => {
                return Err(ServiceError::InvalidVideo)
            }
            (_, Err(e)) => return Err(e.into()),
            (_, Ok(p)) => p,
        };
        let identified = match (requested, probe) {
            (UploadResourceType::Image | UploadResourceType::Auto, Probe::Image(i)) => Identified {
                resource_type: ResourceType::Image,
                format: Some(i.format),
                width: Some(i.width.into()),
                height: Some(i.height.into()),
                pages: Some(i.frames.into()),
                meta: Map::new(),
            },
            (UploadResourceType::Video | UploadResourceType::Auto, Probe::Video(v)) => {
                video_identified(&v, file.digest().len)
            }
            (UploadResourceType::Image, _) => return Err(ServiceError::InvalidImage),
            (UploadResourceType::Video, _) => return Err(ServiceError::InvalidVideo),
            (_, _) => Identified::raw(),
        };
        let max = self.limits().max_bytes(identified.resource_type);
        let got = file.digest().len;
        if got > max {
            return Err(ServiceError::FileTooLarge { got, max });
        }
        if got == 0 {
            return Err(ServiceError::InvalidParam("Empty file".into()));
        }
        Ok(identified)
    }

    /// Pins the content's blob row, then stores the bytes unless a blob
    /// with the same content is already there.
    pub(crate) async fn store_blob(&self, file: SpooledFile) -> Result<String> {
        self.store_blob_pinned(file, 3600).await
    }

    /// [`Self::store_blob`], pinned against collection for `pin_seconds`
    /// (an unreferenced blob must outlive whatever will reference it).
    pub(crate) async fn store_blob_pinned(
        &self,
        file: SpooledFile,
        pin_seconds: i64,
    ) -> Result<String> {
        let sha = file.digest().sha256_hex.clone();
        let proposed = BlobKey::new_generation(&sha);
        let until = now() + pin_seconds;
        let key = self
            .catalog
            .pin_blob(&sha, proposed.as_str(), file.digest().len, until)
            .await?;
        let key = BlobKey::parse(&key)?;
        if !self.blobs.exists(&key).await? {
            self.blobs.put(&key, file).await?;
        }
        Ok(key.as_str().to_owned())
    }
}

fn video_identified(v: &nubo_engine::VideoInfo, bytes: u64) -> Identified {
    let mut meta = Map::new();
    if let Some(d) = v.duration {
        meta.insert("duration".into(), json!((d * 1000.0).round() / 1000.0));
        if d > 0.0 {
            meta.insert(
                "bit_rate".into(),
                json!((bytes as f64 * 8.0 / d).round() as i64),
            );
        }
    }
    if let Some(c) = &v.video_codec {
        meta.insert("video".into(), json!({ "codec": c }));
    }
    if let Some(c) = &v.audio_codec {
        meta.insert("audio".into(), json!({ "codec": c }));
    }
    meta.insert("is_audio".into(), json!(false));
    Identified {
        resource_type: ResourceType::Video,
        format: Some(v.format()),
        width: v.width.map(i64::from),
        height: v.height.map(i64::from),
        pages: None,
        meta,
    }
}

fn existing_response(mut body: Map<String, Value>) -> Value {
    body.insert("existing".into(), json!(true));
    Value::Object(body)
}

fn check_format(cmd: &UploadCommand, id: &Identified) -> Result<()> {
    let Some(format) = id.format else {
        return Ok(());
    };
    let ext = format.extension();
    let same = |f: &str| Format::from_extension(f) == Some(format);
    if !cmd.allowed_formats.is_empty() && !cmd.allowed_formats.iter().any(|f| same(f)) {
        let kind = if id.resource_type == ResourceType::Video {
            "Video"
        } else {
            "Image"
        };
        return Err(ServiceError::FormatNotAllowed {
            kind,
            format: ext.to_owned(),
        });
    }
    if let Some(wanted) = &cmd.format {
        match Format::from_extension(wanted) {
            Some(f) if nubo_transform::is_encodable(f) => {}
            _ => {
                return Err(ServiceError::InvalidParam(format!(
                    "Invalid format for conversion: {wanted}"
                )))
            }
        }
    }
    Ok(())
}

/// When the upload must be rendered before storing: the input format and
/// the output format asked (if any).
fn incoming(cmd: &UploadCommand, id: &Identified) -> Result<Option<(Format, Option<Format>)>> {
    let wanted = cmd.format.as_deref().and_then(Format::from_extension);
    let Some(input) = id
        .format
        .filter(|_| id.resource_type == ResourceType::Image)
    else {
        if !cmd.transformation.is_empty() || wanted.is_some() {
            return Err(ServiceError::Unsupported(
                "Incoming transformations and format conversion need an image".into(),
            ));
        }
        return Ok(None);
    };
    let converts = wanted.is_some_and(|w| w != input);
    if cmd.transformation.is_empty() && !converts {
        return Ok(None);
    }
    Ok(Some((input, wanted)))
}

/// Basename without extension; `file` for anonymous data.
fn original_filename(cmd: &UploadCommand, source_name: Option<&str>) -> String {
    let name = cmd
        .filename_override
        .as_deref()
        .or(source_name)
        .unwrap_or("file");
    let base = basename(name);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => base.to_owned(),
    }
}

/// The last segment of a client path, which Python sends in full.
fn basename(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

fn extension_of(name: &str) -> Option<&str> {
    basename(name)
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 16)
}

/// Public id resolution in fixed-folder mode (§4.1).
fn resolve_public_id(
    cmd: &UploadCommand,
    id: &Identified,
    source_name: Option<&str>,
) -> Result<PublicId> {
    let name = match &cmd.public_id {
        Some(given) => given.clone(),
        None => {
            let mut generated = if cmd.use_filename {
                let stem = original_filename(cmd, source_name);
                let mut s = sanitize_filename(&stem);
                if cmd.unique_filename {
                    s.push('_');
                    s.push_str(&random_id(6));
                }
                s
            } else {
                random_id(20)
            };
            // Raw ids carry the extension; generated ones get the file's.
            if id.resource_type == ResourceType::Raw {
                let named = cmd.filename_override.as_deref().or(source_name);
                if let Some(ext) = named.and_then(extension_of) {
                    generated.push('.');
                    generated.push_str(ext);
                }
            }
            generated
        }
    };
    Ok(PublicId::parse(&cmd.folder.join(&name))?)
}

/// Replaces characters that are unsafe in public ids with `_`.
fn sanitize_filename(stem: &str) -> String {
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() || "?&#\\%<>+/".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    let trimmed = cleaned.trim_matches(['_', '.']);
    if trimmed.is_empty() {
        random_id(6)
    } else {
        trimmed.to_owned()
    }
}

fn decode_data_uri(text: &str) -> Result<Vec<u8>> {
    let invalid = || ServiceError::InvalidParam("Invalid file: malformed data URI".into());
    let (header, payload) = text.split_once(',').ok_or_else(invalid)?;
    if !header.ends_with(";base64") {
        return Err(invalid());
    }
    let cleaned: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(&cleaned).ok())
        .ok_or_else(invalid)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

mod background;
mod chunked;
mod tus;
pub use chunked::{ChunkRange, CHUNK_SESSION_TTL_SECONDS};
pub use tus::{parse_upload_metadata, TusCreate, TusState};

#[cfg(test)]
mod tests;

/// Validates preset settings by parsing them as an upload would.
pub(crate) fn check_preset_settings(settings: &Params, unsigned: bool) -> Result<()> {
    for (k, _) in settings.iter() {
        if matches!(
            k,
            "file" | "signature" | "api_key" | "timestamp" | "upload_preset"
        ) {
            return Err(ServiceError::InvalidParam(format!(
                "A preset cannot set {k}"
            )));
        }
    }
    UploadCommand::parse(settings, unsigned).map(|_| ())
}
