//! The side tables that make listings and search fast: the tag and
//! context indexes of each asset, and the folder tree. Written in the same
//! transaction as the asset row.

use sqlx::{Any, Executor, Transaction};

use super::{bind_loc, Dialect, SqlCatalog, PK};
use crate::*;

impl SqlCatalog {
    /// Rewrites the tag index of one asset. Rows carry the upload time, so
    /// a tag listing walks its index in order, the scalar columns search
    /// filters on most, so a count over a tag never visits the asset rows
    /// ([`super::search`]), and the bits of all the asset's tags.
    pub(super) async fn write_tags(
        &self,
        tx: &mut Transaction<'static, Any>,
        a: &Asset,
    ) -> Result<()> {
        let loc = &a.loc;
        let del = self
            .q(&format!("DELETE FROM asset_tags WHERE {PK}"))
            .into_owned();
        bind_loc(sqlx::query(&del), loc).execute(&mut **tx).await?;
        let ins = self.q(
            "INSERT INTO asset_tags (cloud, resource_type, delivery_type, public_id, tag, \
             created_at_us, format, bytes, width, height, tag_bits) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        );
        let bits = super::tag_bits(a.tags.iter());
        for tag in a.tags.iter() {
            bind_loc(sqlx::query(&ins), loc)
                .bind(tag.to_owned())
                .bind(a.created_at_us)
                .bind(a.format.clone())
                .bind(a.bytes)
                .bind(a.width)
                .bind(a.height)
                .bind(bits)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Rewrites the context index of one asset.
    pub(super) async fn write_context(
        &self,
        tx: &mut Transaction<'static, Any>,
        loc: &AssetLocator,
        context: &nubo_core::Context,
    ) -> Result<()> {
        let del = self
            .q(&format!("DELETE FROM asset_context WHERE {PK}"))
            .into_owned();
        bind_loc(sqlx::query(&del), loc).execute(&mut **tx).await?;
        let ins = self.q(
            "INSERT INTO asset_context (cloud, resource_type, delivery_type, public_id, ctx_key, ctx_value) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        );
        for (k, v) in &context.0 {
            bind_loc(sqlx::query(&ins), loc)
                .bind(k.clone())
                .bind(v.clone())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

/// The microseconds of the current second: uploads committed within one
/// second keep their order in listings.
pub(super) fn sub_second_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::from(d.subsec_micros()))
}

/// The folder of a public id (everything before the last `/`) and its
/// filename (the last segment without its extension), as search sees them.
pub(crate) fn folder_and_filename(public_id: &str) -> (&str, &str) {
    let (folder, base) = public_id.rsplit_once('/').unwrap_or(("", public_id));
    let name = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    (folder, name)
}

/// Records `folder` and its ancestors in the folder tree (fixed-folder mode
/// creates folders on upload).
pub(crate) async fn insert_folders<'e, E>(
    exec: E,
    dialect: Dialect,
    cloud: &str,
    folder: &str,
    now: i64,
) -> Result<()>
where
    E: Executor<'e, Database = Any>,
{
    if folder.is_empty() {
        return Ok(());
    }
    let mut sql =
        String::from("INSERT INTO folders (cloud, path, parent, name, created_at) VALUES ");
    let segments: Vec<&str> = folder.split('/').collect();
    let mut binds: Vec<String> = Vec::new();
    for i in 0..segments.len() {
        let n = binds.len();
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("($1, ${}, ${}, ${}, $2)", n + 3, n + 4, n + 5));
        binds.push(segments[..=i].join("/"));
        binds.push(segments[..i].join("/"));
        binds.push(segments[i].to_owned());
    }
    sql.push_str(" ON CONFLICT DO NOTHING");
    let sql = match dialect {
        Dialect::Postgres => sql,
        Dialect::Sqlite => sql.replace('$', "?"),
    };
    let mut q = sqlx::query(&sql).bind(cloud.to_owned()).bind(now);
    for b in binds {
        q = q.bind(b);
    }
    q.execute(exec).await?;
    Ok(())
}
