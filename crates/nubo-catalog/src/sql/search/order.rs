//! Sorting and keyset cursors: the sort expressions, the values a cursor
//! stores, and the predicate that starts a page after it.

use base64::Engine as _;
use nubo_core::search::{Direction, SortField};

use super::{Bind, Sql};
use crate::*;

/// How the upload-time sort is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeOrder {
    /// From the assets' upload-order index.
    Assets,
    /// From the tag index driving the query, so rows come out in order.
    TagIndex,
    /// As a plain value: matches of a selective side-table term are few,
    /// so they are found first and sorted, rather than walking every
    /// upload in order and probing the side table for each (which
    /// PostgreSQL's planner otherwise tends to pick).
    Sorted,
}

/// The never-null sort expression of a key.
pub(super) fn sort_column(key: SortField, c: &str, time: TimeOrder) -> String {
    match key {
        SortField::CreatedAt | SortField::UploadedAt => match time {
            TimeOrder::Assets => "a.created_at_us".into(),
            TimeOrder::TagIndex => "d.created_at_us".into(),
            TimeOrder::Sorted => "(a.created_at_us + 0)".into(),
        },
        SortField::PublicId => format!("a.public_id{c}"),
        SortField::Filename => format!("a.filename{c}"),
        SortField::Folder => format!("a.folder{c}"),
        SortField::Format => format!("COALESCE(a.format, ''){c}"),
        SortField::ResourceType => "a.resource_type".into(),
        SortField::Type => "a.delivery_type".into(),
        SortField::Bytes => "a.bytes".into(),
        SortField::Width => "COALESCE(a.width, -1)".into(),
        SortField::Height => "COALESCE(a.height, -1)".into(),
    }
}

/// The sort value of an asset for `key`, as the cursor stores it.
pub(super) fn sort_value(a: &Asset, key: SortField) -> serde_json::Value {
    use serde_json::json;
    match key {
        SortField::CreatedAt | SortField::UploadedAt => json!(a.created_at_us),
        SortField::PublicId => json!(a.loc.public_id.as_str()),
        SortField::Filename => json!(crate::sql::folder_and_filename(a.loc.public_id.as_str()).1),
        SortField::Folder => json!(a.loc.public_id.folder()),
        SortField::Format => json!(a.format.clone().unwrap_or_default()),
        SortField::ResourceType => json!(a.loc.scope.resource_type.as_str()),
        SortField::Type => json!(a.loc.scope.delivery_type.as_str()),
        SortField::Bytes => json!(a.bytes),
        SortField::Width => json!(a.width.unwrap_or(-1)),
        SortField::Height => json!(a.height.unwrap_or(-1)),
    }
}

pub(super) fn bad_cursor() -> CatalogError {
    CatalogError::BadQuery("Invalid next_cursor".into())
}

/// A cursor: the sort values and asset id of the last row of a page.
pub(super) fn encode_cursor(values: Vec<serde_json::Value>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::Value::Array(values).to_string())
}

pub(super) fn decode_cursor(raw: &str, sort: &[(SortField, Direction)]) -> Result<Vec<Bind>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad_cursor())?;
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
    if values.len() != sort.len() + 1 {
        return Err(bad_cursor());
    }
    let keys = sort.iter().map(|(k, _)| Some(*k)).chain([None]);
    values
        .iter()
        .zip(keys)
        .map(|(v, key)| match (v, key) {
            (serde_json::Value::String(s), None) => Ok(Bind::Text(s.clone())),
            (serde_json::Value::String(s), Some(k)) if k.is_text() => Ok(Bind::Text(s.clone())),
            (serde_json::Value::Number(n), Some(k)) if !k.is_text() => {
                n.as_i64().map(Bind::Int).ok_or_else(bad_cursor)
            }
            _ => Err(bad_cursor()),
        })
        .collect()
}

impl Sql {
    /// `AND (after the cursor)`: lexicographic over the keys, then the id.
    pub(super) fn after(&mut self, sort: &[(SortField, Direction)], at: Vec<Bind>) {
        let c = self.c();
        let mut cols: Vec<(String, &'static str)> = sort
            .iter()
            .map(|(k, d)| {
                let op = if *d == Direction::Asc { ">" } else { "<" };
                (sort_column(*k, c, self.time_order()), op)
            })
            .collect();
        cols.push(("a.asset_id".into(), ">"));
        self.push(" AND (");
        for i in 0..cols.len() {
            if i > 0 {
                self.push(" OR ");
            }
            self.push("(");
            for (j, bind) in at.iter().enumerate().take(i) {
                self.push(&format!("{} = ", cols[j].0));
                self.bind(bind.clone());
                self.push(" AND ");
            }
            self.push(&format!("{} {} ", cols[i].0, cols[i].1));
            self.bind(at[i].clone());
            self.push(")");
        }
        self.push(")");
    }
}
