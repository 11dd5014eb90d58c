//! The folder tree's writes: deleting a folder (when nothing lives below
//! it) and renaming one in fixed-folder mode, where the folder is the
//! public ids' path, so every asset below it is renamed, in one
//! transaction.

use nubo_core::{CloudName, PublicId};
use sqlx::Row;

use super::rows::asset_from_row;
use super::{insert_folders, SqlCatalog};
use crate::*;

/// Most assets one folder rename moves (one transaction holds them all).
pub const MAX_FOLDER_RENAME: usize = 10_000;

/// `col` is the folder `$2` or below it (`$3`..`$4` bound the descendants,
/// bytewise), with `$1` the cloud: see [`subtree_binds`].
fn subtree(col: &str, c: &str) -> String {
    format!("({col} = $2 OR ({col}{c} >= $3 AND {col}{c} <= $4))")
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// `sql` with the subtree of `binds` bound ([`subtree`]).
fn on_subtree<'q>(sql: &'q str, binds: &[String; 4]) -> AnyQuery<'q> {
    binds
        .iter()
        .fold(sqlx::query(sql), |q, b| q.bind(b.clone()))
}

fn subtree_binds(cloud: &CloudName, path: &str) -> [String; 4] {
    [
        cloud.as_str().to_owned(),
        path.to_owned(),
        format!("{path}/"),
        format!("{path}/\u{10FFFF}"),
    ]
}

impl SqlCatalog {
    /// The folder and the folders below it, locked for the transaction.
    async fn subtree_folders(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        binds: &[String; 4],
    ) -> Result<Vec<String>> {
        let sql = self
            .q(&format!(
                "SELECT path FROM folders WHERE cloud = $1 AND {}{}",
                subtree("path", self.dialect.bytewise()),
                self.dialect.for_update()
            ))
            .into_owned();
        let rows = on_subtree(&sql, binds).fetch_all(&mut **tx).await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn drop_subtree_folders(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        binds: &[String; 4],
    ) -> Result<()> {
        let sql = self
            .q(&format!(
                "DELETE FROM folders WHERE cloud = $1 AND {}",
                subtree("path", self.dialect.bytewise())
            ))
            .into_owned();
        on_subtree(&sql, binds).execute(&mut **tx).await?;
        Ok(())
    }

    /// Deletes a folder and its subfolders if no asset of any type lives
    /// under it.
    pub(super) async fn delete_folder_impl(
        &self,
        cloud: &CloudName,
        path: &str,
    ) -> Result<FolderDelete> {
        let (_guard, mut tx) = self.begin_write().await?;
        let c = self.dialect.bytewise();
        let binds = subtree_binds(cloud, path);
        let mut paths = self.subtree_folders(&mut tx, &binds).await?;
        if !paths.iter().any(|p| p == path) {
            return Ok(FolderDelete::Missing);
        }
        let sql = self
            .q(&format!(
                "SELECT COUNT(*) FROM assets WHERE cloud = $1 AND {}",
                subtree("folder", c)
            ))
            .into_owned();
        let assets: i64 = on_subtree(&sql, &binds)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if assets > 0 {
            return Ok(FolderDelete::NotEmpty);
        }
        self.drop_subtree_folders(&mut tx, &binds).await?;
        tx.commit().await?;
        // Deepest first, as Cloudinary lists them.
        paths.sort_by(|a, b| {
            b.matches('/')
                .count()
                .cmp(&a.matches('/').count())
                .then(a.cmp(b))
        });
        Ok(FolderDelete::Deleted(paths))
    }

    pub(super) async fn rename_folder_impl(
        &self,
        cloud: &CloudName,
        from: &str,
        to: &str,
        now: i64,
    ) -> Result<FolderRename> {
        let (_guard, mut tx) = self.begin_write().await?;
        let c = self.dialect.bytewise();
        let binds = subtree_binds(cloud, from);
        let folders = self.subtree_folders(&mut tx, &binds).await?;
        if !folders.iter().any(|p| p == from) {
            return Ok(FolderRename::Missing);
        }
        let sql = self
            .q(&format!(
                "SELECT * FROM assets WHERE cloud = $1 AND {} LIMIT {}{}",
                subtree("folder", c),
                MAX_FOLDER_RENAME + 1,
                self.dialect.for_update()
            ))
            .into_owned();
        let rows = on_subtree(&sql, &binds).fetch_all(&mut *tx).await?;
        if rows.len() > MAX_FOLDER_RENAME {
            return Ok(FolderRename::TooMany);
        }
        let moved_id = |id: &str| format!("{to}{}", &id[from.len()..]);
        let mut assets = Vec::with_capacity(rows.len());
        for r in &rows {
            let asset = asset_from_row(r)?;
            let Ok(new_id) = PublicId::parse(&moved_id(asset.loc.public_id.as_str())) else {
                return Ok(FolderRename::InvalidTarget(moved_id(
                    asset.loc.public_id.as_str(),
                )));
            };
            let target = AssetLocator {
                scope: asset.loc.scope.clone(),
                public_id: new_id,
            };
            if self.load_asset(&mut *tx, &target, true).await?.is_some() {
                return Ok(FolderRename::TargetExists(target.public_id.to_string()));
            }
            assets.push((asset, target));
        }
        for (mut asset, target) in assets.iter().cloned() {
            self.remove_asset_row(&mut tx, &asset.loc).await?;
            asset.loc = target;
            asset.updated_at = now;
            self.insert_asset_row(&mut tx, &asset).await?;
        }
        self.drop_subtree_folders(&mut tx, &binds).await?;
        for path in &folders {
            insert_folders(&mut *tx, self.dialect, cloud.as_str(), &moved_id(path), now).await?;
        }
        tx.commit().await?;
        Ok(FolderRename::Renamed {
            assets: assets.len(),
        })
    }
}
