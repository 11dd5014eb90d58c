//! Renaming a folder in fixed-folder mode: the folder is the public ids'
//! path, so every asset below it is renamed, in one transaction.

use nubo_core::{CloudName, PublicId};

use super::rows::asset_from_row;
use super::{insert_folders, SqlCatalog};
use crate::*;

/// Most assets one folder rename moves (one transaction holds them all).
pub const MAX_FOLDER_RENAME: usize = 10_000;

impl SqlCatalog {
    pub(super) async fn rename_folder_impl(
        &self,
        cloud: &CloudName,
        from: &str,
        to: &str,
        now: i64,
    ) -> Result<FolderRename> {
        let (_guard, mut tx) = self.begin_write().await?;
        let c = self.dialect.bytewise();
        let (below, top) = (format!("{from}/"), format!("{from}/\u{10FFFF}"));
        let subtree = |col: &str| format!("({col} = $2 OR ({col}{c} >= $3 AND {col}{c} <= $4))");
        let sql = self
            .q(&format!(
                "SELECT path FROM folders WHERE cloud = $1 AND {}",
                subtree("path")
            ))
            .into_owned();
        let folders: Vec<String> = sqlx::query_scalar(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(from.to_owned())
            .bind(below.clone())
            .bind(top.clone())
            .fetch_all(&mut *tx)
            .await?;
        if !folders.iter().any(|p| p == from) {
            return Ok(FolderRename::Missing);
        }
        let sql = self
            .q(&format!(
                "SELECT * FROM assets WHERE cloud = $1 AND {} LIMIT {}{}",
                subtree("folder"),
                MAX_FOLDER_RENAME + 1,
                self.dialect.for_update()
            ))
            .into_owned();
        let rows = sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(from.to_owned())
            .bind(below)
            .bind(top)
            .fetch_all(&mut *tx)
            .await?;
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
        let sql = self
            .q(&format!(
                "DELETE FROM folders WHERE cloud = $1 AND {}",
                subtree("path")
            ))
            .into_owned();
        sqlx::query(&sql)
            .bind(cloud.as_str().to_owned())
            .bind(from.to_owned())
            .bind(format!("{from}/"))
            .bind(format!("{from}/\u{10FFFF}"))
            .execute(&mut *tx)
            .await?;
        for path in &folders {
            insert_folders(&mut *tx, self.dialect, cloud.as_str(), &moved_id(path), now).await?;
        }
        tx.commit().await?;
        Ok(FolderRename::Renamed {
            assets: assets.len(),
        })
    }
}
