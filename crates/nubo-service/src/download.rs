//! `GET /v1_1/{cloud}/{rt}/download`: the signed, expiring download URL
//! of `private_download_url` (§6.11), which is how apps hand out private
//! originals, optionally converted and as an attachment.

use nubo_catalog::{AssetLocator, AssetScope};
use nubo_core::{DeliveryType, Format, PublicId};
use nubo_transform::{ClientHints, Resolved, Transformation};

use crate::deliver::Delivery;
use crate::manage::ManageRequest;
use crate::{now, Result, Service, ServiceError};

impl Service {
    pub async fn download(&self, req: ManageRequest) -> Result<Delivery> {
        self.authorize_upload(&req.cloud, "download", &req.params, &req.creds)
            .await?;
        if let Some(raw) = req.params.get("expires_at").filter(|v| !v.is_empty()) {
            let expires: i64 = raw
                .parse()
                .map_err(|_| ServiceError::InvalidParam(format!("Invalid expires_at {raw}")))?;
            if expires < now() {
                return Err(ServiceError::Unauthorized(
                    "Download URL has expired".into(),
                ));
            }
        }
        let resource_type = req.resource_type.fixed().ok_or_else(|| {
            ServiceError::InvalidParam("Invalid resource type auto for download".into())
        })?;
        let delivery_type = match req.params.get("type").filter(|t| !t.is_empty()) {
            Some(t) => DeliveryType::parse(t)?,
            None => DeliveryType::Upload,
        };
        let public_id = PublicId::parse(
            req.params
                .get("public_id")
                .ok_or(ServiceError::MissingParam("public_id"))?,
        )?;
        let loc = AssetLocator {
            scope: AssetScope {
                cloud: req.cloud.clone(),
                resource_type,
                delivery_type,
            },
            public_id,
        };
        let asset = self
            .catalog
            .asset(&loc)
            .await?
            .ok_or_else(|| ServiceError::NotFound(loc.public_id.to_string()))?;
        let stored = asset.format.as_deref().and_then(Format::from_extension);
        let wanted = match req.params.get("format").filter(|f| !f.is_empty()) {
            Some(f) => Some(
                Format::from_extension(f)
                    .ok_or_else(|| ServiceError::InvalidParam(format!("Invalid format {f}")))?,
            ),
            None => None,
        };
        let attachment = req.params.flag("attachment")?.unwrap_or(false);
        let shown = wanted.or(stored);
        let disposition =
            attachment.then(|| crate::deliver::attachment_disposition(&asset, None, shown));
        match (wanted, stored) {
            (Some(w), Some(s)) if w != s => {
                let plan = Resolved::new(
                    &Transformation::default(),
                    Some(w),
                    s,
                    &ClientHints::default(),
                );
                let derived = self.derived_file(&asset, &plan).await?;
                crate::deliver::private_derived(derived, disposition)
            }
            _ => crate::deliver::private_original(&asset, stored, disposition),
        }
    }
}
