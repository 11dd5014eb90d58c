//! The page of `(tags:a OR tags:b …) AND rest` in upload order, from the
//! tag index alone: each tag's rows come out of the index already in upload
//! order, so each tag contributes only its first `n` matches, and the page
//! is the first `n` of their union. Walking every upload and probing its
//! tags instead costs a scan of the assets table when the tags are rare
//! among recent uploads.
//!
//! Why the union of per-tag prefixes holds the page: an asset in the page
//! has one of the tags; every row of that tag ranked above it is in the
//! union and ranked above it too, so fewer than `n` are, and the asset is in
//! its tag's first `n`. Rows tied on upload time at a tag's `n`-th are all
//! taken, up to [`TIE_SLACK`] (the tag index does not hold the asset id
//! that breaks ties).

use nubo_core::search::{Direction, Expr, SortField};

use super::plan::{on_tag_rows, split_any_of_tags};
use super::{Bind, Sql};
use crate::AssetQuery;

/// More tags than this are better served by the general plan.
const MAX_UNION_TAGS: usize = 16;

/// A bound on each tag's rows beyond the page, for rows tied on upload time
/// with its last one. Without a bound PostgreSQL cannot tell a tag's rows
/// are few and joins them to the assets by scanning the whole table.
/// (Only more than this many uploads in one microsecond, all carrying the
/// tag, could push one out of the page.)
const TIE_SLACK: u32 = 1000;

impl Sql {
    /// Writes `SELECT a.* … WHERE …` for the query and `true`, or nothing
    /// and `false` when the query has another shape. The caller appends
    /// the ORDER BY and LIMIT of the page.
    pub(super) fn any_of_tags_page(
        &mut self,
        q: &AssetQuery,
        sort: &[(SortField, Direction)],
        limit: u32,
        cursor: Option<&[Bind]>,
    ) -> bool {
        let [(SortField::CreatedAt | SortField::UploadedAt, dir)] = sort else {
            return false;
        };
        let Some((mut tags, rest)) = split_any_of_tags(&q.expr) else {
            return false;
        };
        if tags.len() > MAX_UNION_TAGS || rest.as_ref().is_some_and(|e| !on_tag_rows(e)) {
            return false;
        }
        let mut seen = std::collections::HashSet::new();
        tags.retain(|t| seen.insert(t.clone()));
        let n = limit + 1;
        let (order, bound, sentinel) = match dir {
            Direction::Desc => ("DESC", ">=", i64::MIN),
            Direction::Asc => ("ASC", "<=", i64::MAX),
        };
        let since = cursor.map(|c| c[0].clone());
        self.push("SELECT a.* FROM assets a JOIN (");
        for (i, tag) in tags.iter().enumerate() {
            if i > 0 {
                self.push(" UNION ");
            }
            self.push(
                "SELECT * FROM (SELECT d.resource_type, d.delivery_type, d.public_id \
                 FROM asset_tags d WHERE ",
            );
            self.tag_rows(q, tag, rest.as_ref(), since.as_ref(), *dir, "d");
            self.push(&format!(
                " AND d.created_at_us {bound} COALESCE((SELECT e.created_at_us FROM asset_tags e WHERE "
            ));
            self.tag_rows(q, tag, rest.as_ref(), since.as_ref(), *dir, "e");
            self.push(&format!(
                " ORDER BY e.created_at_us {order} LIMIT 1 OFFSET {}), {sentinel}) \
                 ORDER BY d.created_at_us {order} LIMIT {}) b{i}",
                n - 1,
                n + TIE_SLACK
            ));
        }
        self.push(
            ") k ON a.resource_type = k.resource_type AND a.delivery_type = k.delivery_type \
             AND a.public_id = k.public_id WHERE a.cloud = ",
        );
        self.bind(Bind::Text(q.cloud.as_str().to_owned()));
        if let Some(at) = cursor {
            self.after(sort, at.to_vec());
        }
        true
    }

    /// The tag rows of `tag` in the query's scope that pass `rest`, from
    /// the cursor's upload time on (ties included; the page's own cursor
    /// test on the assets settles them).
    fn tag_rows(
        &mut self,
        q: &AssetQuery,
        tag: &str,
        rest: Option<&Expr>,
        since: Option<&Bind>,
        dir: Direction,
        alias: &'static str,
    ) {
        let c = self.c();
        self.push(&format!("{alias}.cloud = "));
        self.bind(Bind::Text(q.cloud.as_str().to_owned()));
        self.push(&format!(" AND {alias}.tag{c} = "));
        self.bind(Bind::Text(tag.to_owned()));
        self.scope_on(q, alias);
        if let Some(t) = since {
            let op = if dir == Direction::Desc { "<=" } else { ">=" };
            self.push(&format!(" AND {alias}.created_at_us {op} "));
            self.bind(t.clone());
        }
        if let Some(e) = rest {
            self.push(" AND ");
            self.expr_on(e, alias);
        }
    }
}
