//! Mapping catalog rows to records, and records to column values.

use nubo_core::{CloudName, Context, DeliveryType, PublicId, ResourceType, Tags};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::*;

pub(super) fn tags_json(tags: &Tags) -> String {
    serde_json::to_string(tags.as_slice()).expect("strings serialise")
}

pub(super) fn context_json(ctx: &Context) -> String {
    serde_json::to_string(&ctx.0).expect("strings serialise")
}

pub(super) fn corrupt(what: impl std::fmt::Display) -> CatalogError {
    CatalogError::Corrupt(what.to_string())
}

pub(super) fn asset_from_row(r: &AnyRow) -> Result<Asset> {
    let cloud = CloudName::parse(&r.try_get::<String, _>("cloud")?).map_err(corrupt)?;
    let resource_type =
        ResourceType::parse(&r.try_get::<String, _>("resource_type")?).map_err(corrupt)?;
    let delivery_type =
        DeliveryType::parse(&r.try_get::<String, _>("delivery_type")?).map_err(corrupt)?;
    let public_id = PublicId::parse(&r.try_get::<String, _>("public_id")?).map_err(corrupt)?;
    let tags: Vec<String> =
        serde_json::from_str(&r.try_get::<String, _>("tags")?).map_err(corrupt)?;
    let context = serde_json::from_str(&r.try_get::<String, _>("context")?).map_err(corrupt)?;
    let meta = serde_json::from_str(&r.try_get::<String, _>("meta")?).map_err(corrupt)?;
    Ok(Asset {
        loc: AssetLocator {
            scope: AssetScope {
                cloud,
                resource_type,
                delivery_type,
            },
            public_id,
        },
        asset_id: r.try_get("asset_id")?,
        version: r.try_get("version")?,
        version_id: r.try_get("version_id")?,
        format: r.try_get("format")?,
        bytes: r.try_get("bytes")?,
        width: r.try_get("width")?,
        height: r.try_get("height")?,
        pages: r.try_get("pages")?,
        etag: r.try_get("etag")?,
        original_filename: r.try_get("original_filename")?,
        tags: Tags::from_vec(tags),
        context: Context(context),
        meta,
        blob_key: r.try_get("blob_key")?,
        created_at: r.try_get("created_at")?,
        created_at_us: r.try_get("created_at_us")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(super) fn key_from_row(r: &AnyRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        cloud: CloudName::parse(&r.try_get::<String, _>("cloud")?).map_err(corrupt)?,
        key: r.try_get("api_key")?,
        secret: r.try_get("secret")?,
        label: r.try_get("label")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub(super) fn token_from_row(r: &AnyRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.try_get("id")?,
        cloud: CloudName::parse(&r.try_get::<String, _>("cloud")?).map_err(corrupt)?,
        hash_hex: r.try_get("token_hash")?,
        label: r.try_get("label")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub(super) fn preset_from_row(r: &AnyRow) -> Result<PresetRecord> {
    Ok(PresetRecord {
        cloud: CloudName::parse(&r.try_get::<String, _>("cloud")?).map_err(corrupt)?,
        name: r.try_get("name")?,
        unsigned: r.try_get::<i64, _>("unsigned_ok")? != 0,
        settings: serde_json::from_str(&r.try_get::<String, _>("settings")?).map_err(corrupt)?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
