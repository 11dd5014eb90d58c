//! Transformations at upload time: the incoming `transformation` and
//! `format` (applied before the original is stored) and `eager` derived
//! files (rendered right after commit, also from `explicit`).

use nubo_blob::SpooledFile;
use nubo_catalog::Asset;
use nubo_core::{CloudName, Format};
use nubo_transform::{ClientHints, Resolved, Transformation};
use serde_json::{json, Value};

use crate::jobs::{NotifyTarget, Task};
use crate::{Result, Service, ServiceError};

/// `eager_async`: render in the background, then notify here (if anywhere).
#[derive(Debug, Clone)]
pub(crate) struct EagerAsync {
    pub notify: Option<NotifyTarget>,
}

/// One `eager` entry: `c_fill,w_100/png` is the transformation plus an
/// output extension, as the SDKs write it.
#[derive(Debug, Clone)]
pub(crate) struct EagerSpec {
    /// The transformation text as given, echoed in the response.
    pub text: String,
    pub transformation: Transformation,
    pub format: Option<Format>,
}

/// Most eager transformations one request may ask for.
const MAX_EAGER: usize = 20;

/// Parses `eager`: entries separated by `|`.
pub(crate) fn parse_eager(raw: &str) -> Result<Vec<EagerSpec>> {
    let specs: Vec<EagerSpec> = raw
        .split('|')
        .filter(|s| !s.is_empty())
        .map(parse_one)
        .collect::<Result<_>>()?;
    if specs.len() > MAX_EAGER {
        return Err(ServiceError::InvalidParam(format!(
            "Too many eager transformations (at most {MAX_EAGER})"
        )));
    }
    Ok(specs)
}

fn parse_one(entry: &str) -> Result<EagerSpec> {
    let (text, format) = match entry.rsplit_once('/') {
        Some((t, ext)) if !ext.contains('_') && !ext.is_empty() => (t, Some(ext)),
        _ if !entry.contains('_') => ("", Some(entry)),
        _ => (entry, None),
    };
    let format =
        match format {
            Some(ext) => Some(Format::from_extension(ext).ok_or_else(|| {
                ServiceError::InvalidParam(format!("Invalid eager format: {ext}"))
            })?),
            None => None,
        };
    Ok(EagerSpec {
        text: text.to_owned(),
        transformation: Transformation::parse(text)?,
        format,
    })
}

impl Service {
    /// Expands named transformations of every eager entry up front, so a
    /// bad entry refuses the request before anything is stored.
    pub(crate) async fn prepare_eager(
        &self,
        cloud: &CloudName,
        raw: Option<&str>,
    ) -> Result<Vec<EagerSpec>> {
        let Some(raw) = raw else {
            return Ok(Vec::new());
        };
        let mut specs = parse_eager(raw)?;
        for s in &mut specs {
            s.transformation = self.expand_named(cloud, &s.transformation).await?;
        }
        Ok(specs)
    }

    /// With `eager_async`: where the eager notification goes
    /// (`eager_notification_url`, else the call's notification target).
    pub(crate) async fn eager_async_target(
        &self,
        cloud: &CloudName,
        params: &crate::Params,
        caller: &crate::Caller,
        notify: Option<&NotifyTarget>,
    ) -> Result<Option<EagerAsync>> {
        if !params.flag("eager_async")?.unwrap_or(false) {
            return Ok(None);
        }
        let notify = match params
            .get("eager_notification_url")
            .filter(|u| !u.is_empty())
        {
            Some(u) => self.notify_target(cloud, Some(u), caller).await?,
            None => notify.cloned(),
        };
        Ok(Some(EagerAsync { notify }))
    }

    /// Queues the eager renditions of `asset`; answers what Cloudinary
    /// answers for them: their URLs, marked as processing.
    pub(crate) async fn queue_eager(
        &self,
        asset: &Asset,
        raw: Option<&str>,
        specs: &[EagerSpec],
        target: &EagerAsync,
    ) -> Result<Value> {
        let batch_id = hex::encode(rand::random::<[u8; 32]>());
        let task = Task::Eager {
            resource_type: asset.loc.scope.resource_type.as_str().into(),
            delivery_type: asset.loc.scope.delivery_type.as_str().into(),
            public_id: asset.loc.public_id.as_str().into(),
            version: asset.version,
            eager: raw.unwrap_or_default().into(),
            batch_id: batch_id.clone(),
            notify: target.notify.as_ref().map(|n| n.url.clone()),
            signer: target.notify.as_ref().and_then(|n| n.signer.clone()),
        };
        self.enqueue(&asset.loc.scope.cloud, &task).await?;
        let out = specs
            .iter()
            .map(|s| {
                let mut shown = asset.clone();
                if let Some(f) = s.format {
                    shown.format = Some(f.extension().to_owned());
                }
                let (url, secure_url) = self.urls.of_asset(&shown, Some(&s.text));
                json!({
                    "status": "processing",
                    "batch_id": batch_id,
                    "transformation": s.text,
                    "url": url,
                    "secure_url": secure_url,
                })
            })
            .collect();
        Ok(Value::Array(out))
    }

    /// Renders eager derived files and describes them as Cloudinary does.
    pub(crate) async fn render_eager(&self, asset: &Asset, specs: &[EagerSpec]) -> Result<Value> {
        let Some(original) = asset.format.as_deref().and_then(Format::from_extension) else {
            return Err(ServiceError::Unsupported(
                "Eager transformations need an image".into(),
            ));
        };
        let mut out = Vec::new();
        for s in specs {
            let plan = Resolved::new(
                &s.transformation,
                s.format,
                original,
                &ClientHints::default(),
            );
            let d = self.derived_file(asset, &plan).await?;
            let mut shown = asset.clone();
            shown.format = Some(d.format.clone());
            let (url, secure_url) = self.urls.of_asset(&shown, Some(&s.text));
            out.push(json!({
                "transformation": if s.format.is_some() && !s.text.is_empty() {
                    format!("{}/{}", s.text, d.format)
                } else if s.text.is_empty() { d.format.clone() } else { s.text.clone() },
                "width": d.width,
                "height": d.height,
                "bytes": d.bytes,
                "format": d.format,
                "url": url,
                "secure_url": secure_url,
            }));
        }
        Ok(Value::Array(out))
    }

    /// Applies an incoming transformation (and/or format conversion, from
    /// `input` to `format`) to an upload before it is stored; conditions
    /// read the upload's own tags, context and metadata. Returns the new
    /// bytes, spooled.
    pub(crate) async fn apply_incoming(
        &self,
        cloud: &nubo_core::CloudName,
        spooled: &SpooledFile,
        (input, format): (Format, Option<Format>),
        t: &Transformation,
        data: nubo_transform::expr::AssetData,
    ) -> Result<SpooledFile> {
        let bytes = tokio::fs::read(spooled.path())
            .await
            .map_err(|e| ServiceError::Internal(format!("reading the upload: {e}")))?;
        let plan = Resolved::new(t, format, input, &ClientHints::default());
        let mut job = self.job(cloud, input, plan).await?;
        job.asset = data;
        let rendered = self.engine.render(bytes.into(), job).await?;
        self.spool_bytes(rendered.bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eager_entries_as_the_sdks_write_them() {
        let e = parse_eager("c_scale,w_100|c_fill,h_50,w_50/png|webp").unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].format, None);
        assert_eq!(e[1].format, Some(Format::Png));
        assert_eq!(e[1].text, "c_fill,h_50,w_50");
        assert_eq!(e[2].format, Some(Format::Webp));
        assert!(e[2].transformation.is_empty());
        assert!(parse_eager("w_abc").is_err());
        assert!(parse_eager("w_10/exe").is_err());
        let many = vec!["w_10"; MAX_EAGER + 1].join("|");
        assert!(parse_eager(&many).is_err());
    }
}
