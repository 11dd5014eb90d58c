//! Search expressions compiled to SQL: one compiler for both dialects.
//!
//! Every value is a bound parameter; field names map to fixed column
//! expressions, so no user text is ever spliced into SQL. Text comparisons
//! and sorts use the bytewise collation ([`Dialect::bytewise`]) so SQLite and
//! PostgreSQL agree on order and on prefix ranges, whatever the database's
//! locale. Pages are keyset-paginated on the sort keys plus the asset id.

use nubo_core::search::{Cmp, Direction, Expr, Field, SortField, Term, Test, Value};
use sqlx::Row;

mod order;
mod plan;
mod union;

use order::{decode_cursor, encode_cursor, sort_column, sort_value, TimeOrder};
use plan::{any_of_tags, on_tag_rows, selective_side_term, split_any_of_tags, Shape};

use super::rows::asset_from_row;
use super::{Dialect, SqlCatalog};
use crate::*;

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
enum Bind {
    Text(String),
    Int(i64),
    Real(f64),
}

/// SQL text with `$n` placeholders and their values, built up in order.
struct Sql {
    text: String,
    binds: Vec<Bind>,
    dialect: Dialect,
    now: i64,
    /// Side-table subqueries are restricted to this cloud so they can be
    /// driven by their own indexes.
    cloud: String,
    /// The query runs off the tag index (`asset_tags d`), see [`Shape`].
    driving: bool,
    /// The row terms are compiled against: `a` (assets) or `d` (tag rows,
    /// which carry the scalar columns; see [`on_tag_rows`]).
    alias: &'static str,
    /// The expression has a selective side-table term ([`TimeOrder::Sorted`]).
    selective: bool,
}

/// The highest code point: `p <= x <= p || MAX` is "x starts with p" in
/// bytewise order.
const TOP: char = '\u{10FFFF}';

/// Joins a side table to the asset row `a`.
const SAME_ASSET: &str = "x.cloud = a.cloud AND x.resource_type = a.resource_type \
     AND x.delivery_type = a.delivery_type AND x.public_id = a.public_id";

impl Sql {
    fn new(dialect: Dialect, now: i64, cloud: &str) -> Self {
        Sql {
            text: String::new(),
            binds: Vec::new(),
            dialect,
            now,
            cloud: cloud.to_owned(),
            driving: false,
            alias: "a",
            selective: false,
        }
    }

    fn time_order(&self) -> TimeOrder {
        match (self.driving, self.selective) {
            (true, _) => TimeOrder::TagIndex,
            (false, true) => TimeOrder::Sorted,
            (false, false) => TimeOrder::Assets,
        }
    }

    /// `a`'s key `IN (SELECT … FROM table x WHERE x.cloud = … AND`: the
    /// caller appends the side-table test and `))`. A semi-join rather than
    /// a correlated EXISTS, so a selective tag drives the query from the
    /// tag index instead of a scan of every asset.
    fn side_table(&mut self, table: &str) {
        let a = self.alias;
        self.push(&format!(
            "({a}.resource_type, {a}.delivery_type, {a}.public_id) IN (SELECT x.resource_type, \
             x.delivery_type, x.public_id FROM {table} x WHERE x.cloud = "
        ));
        self.bind(Bind::Text(self.cloud.clone()));
        self.push(" AND ");
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Appends a placeholder for `b`.
    fn bind(&mut self, b: Bind) {
        self.binds.push(b);
        self.text.push_str(&format!("${}", self.binds.len()));
    }

    fn c(&self) -> &'static str {
        self.dialect.bytewise()
    }

    fn expr(&mut self, e: &Expr) {
        if let Some(tags) = any_of_tags(e) {
            // `tags:a OR tags:b` is one semi-join on the tag index.
            let c = self.c();
            self.side_table("asset_tags");
            self.push(&format!("x.tag{c} IN ("));
            for (i, t) in tags.into_iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.bind(Bind::Text(t));
            }
            self.push("))");
            return;
        }
        match e {
            Expr::And(items) | Expr::Or(items) => {
                let joiner = if matches!(e, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.push("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(joiner);
                    }
                    self.expr(item);
                }
                self.push(")");
            }
            Expr::Not(inner) => {
                // A term on a missing value (a raw file's width) is NULL in
                // SQL; under NOT it must count as false, as in Lucene.
                self.push("NOT COALESCE((");
                self.expr(inner);
                self.push("), 1 = 0)");
            }
            Expr::Term(t) => self.term(t),
        }
    }

    fn term(&mut self, t: &Term) {
        let c = self.c();
        match &t.field {
            Field::Tags => {
                self.side_table("asset_tags");
                self.text_test(&format!("x.tag{c}"), &t.test);
                self.push(")");
            }
            Field::Context(key) => {
                self.side_table("asset_context");
                self.push("x.ctx_key = ");
                self.bind(Bind::Text(key.clone()));
                self.push(" AND ");
                self.text_test(&format!("x.ctx_value{c}"), &t.test);
                self.push(")");
            }
            Field::Any => {
                self.push("(");
                self.text_test(&format!("a.public_id{c}"), &t.test);
                self.push(" OR ");
                self.text_test(&format!("a.filename{c}"), &t.test);
                self.push(" OR ");
                self.side_table("asset_tags");
                self.text_test(&format!("x.tag{c}"), &t.test);
                self.push(") OR ");
                self.side_table("asset_context");
                self.text_test(&format!("x.ctx_value{c}"), &t.test);
                self.push("))");
            }
            Field::Status => {
                // Every stored asset is active.
                let active = match &t.test {
                    Test::Eq(Value::Text(v)) => v == "active",
                    Test::Prefix(p) => "active".starts_with(p.as_str()),
                    _ => false,
                };
                self.push(if active { "1 = 1" } else { "1 = 0" });
            }
            Field::Metadata(key) => {
                self.side_table("asset_metadata");
                self.push("x.field = ");
                self.bind(Bind::Text(key.clone()));
                self.push(" AND ");
                self.metadata_test(&t.test);
                self.push(")");
            }
            // Unknown fields match nothing, as on Cloudinary.
            Field::Unknown(_) => self.push("1 = 0"),
            // `folder:shop/*` is the folder itself and everything below.
            Field::Folder if matches!(&t.test, Test::Prefix(p) if p.ends_with('/')) => {
                let Test::Prefix(p) = &t.test else {
                    unreachable!("matched above")
                };
                self.push(&format!("(a.folder{c} = "));
                self.bind(Bind::Text(p.trim_end_matches('/').to_owned()));
                self.push(" OR ");
                self.text_test(&format!("a.folder{c}"), &t.test);
                self.push(")");
            }
            Field::CreatedAt | Field::UploadedAt => self.time_test(&t.test),
            field => {
                let col = column(field, c, self.alias);
                match field.kind() {
                    nubo_core::search::Kind::Text => self.text_test(&col, &t.test),
                    _ => self.number_test(&col, &t.test),
                }
            }
        }
    }

    fn text_test(&mut self, col: &str, test: &Test) {
        match test {
            Test::Eq(v) => {
                self.push(&format!("{col} = "));
                self.bind(self.value(v));
            }
            Test::Prefix(p) if p.is_empty() => self.push(&format!("{col} IS NOT NULL")),
            Test::Prefix(p) => {
                self.push(&format!("({col} >= "));
                self.bind(Bind::Text(p.clone()));
                self.push(&format!(" AND {col} <= "));
                self.bind(Bind::Text(format!("{p}{TOP}")));
                self.push(")");
            }
            // The parser only builds comparisons on numbers and times.
            Test::Cmp(..) | Test::Range(..) => self.push("1 = 0"),
        }
    }

    fn number_test(&mut self, col: &str, test: &Test) {
        match test {
            Test::Eq(v) => {
                self.push(&format!("{col} = "));
                self.bind(self.value(v));
            }
            Test::Cmp(cmp, v) => {
                self.push(&format!("{col} {} ", cmp.sql()));
                self.bind(self.value(v));
            }
            Test::Range(lo, hi) => {
                self.push(&format!("({col} >= "));
                self.bind(self.value(lo));
                self.push(&format!(" AND {col} <= "));
                self.bind(self.value(hi));
                self.push(")");
            }
            Test::Prefix(_) => self.push(&format!("{col} IS NOT NULL")),
        }
    }

    /// Metadata values are text (dates as `YYYY-MM-DD`, which order as
    /// text) and, for integer fields, numbers: a comparison with a number
    /// uses the number.
    fn metadata_test(&mut self, test: &Test) {
        let c = self.c();
        let num = |v: &Value| match v {
            Value::Text(s) => s.parse::<f64>().ok(),
            _ => None,
        };
        let numeric = match test {
            Test::Cmp(_, v) => num(v).map(|n| vec![n]),
            Test::Range(lo, hi) => num(lo).zip(num(hi)).map(|(a, b)| vec![a, b]),
            _ => None,
        };
        match (test, numeric) {
            (Test::Cmp(cmp, _), Some(n)) => {
                self.push(&format!("x.value_num {} ", cmp.sql()));
                self.bind(Bind::Real(n[0]));
            }
            (Test::Range(..), Some(n)) => {
                self.push("(x.value_num >= ");
                self.bind(Bind::Real(n[0]));
                self.push(" AND x.value_num <= ");
                self.bind(Bind::Real(n[1]));
                self.push(")");
            }
            (Test::Cmp(cmp, v), None) => {
                self.push(&format!("x.value_text{c} {} ", cmp.sql()));
                self.bind(self.value(v));
            }
            (Test::Range(lo, hi), None) => {
                self.push(&format!("(x.value_text{c} >= "));
                self.bind(self.value(lo));
                self.push(&format!(" AND x.value_text{c} <= "));
                self.bind(self.value(hi));
                self.push(")");
            }
            (eq_or_prefix, _) => self.text_test(&format!("x.value_text{c}"), eq_or_prefix),
        }
    }

    /// Times (whole seconds) compare on the microsecond upload time, which
    /// is what the upload-order index holds: second `T` is the interval
    /// `[T, T+1)` in microseconds.
    fn time_test(&mut self, test: &Test) {
        const US: i64 = 1_000_000;
        let secs = |s: &Self, v: &Value| match s.value(v) {
            Bind::Int(i) => i,
            _ => 0,
        };
        let col = format!("{}.created_at_us", self.alias);
        let col = col.as_str();
        let bound = |s: &mut Self, op: &str, at: i64| {
            s.push(&format!("{col} {op} "));
            s.bind(Bind::Int(at.saturating_mul(US)));
        };
        match test {
            Test::Eq(v) | Test::Range(v, _) => {
                let lo = secs(self, v);
                let hi = match test {
                    Test::Range(_, h) => secs(self, h),
                    _ => lo,
                };
                self.push("(");
                bound(self, ">=", lo);
                self.push(" AND ");
                bound(self, "<", hi.saturating_add(1));
                self.push(")");
            }
            Test::Cmp(cmp, v) => {
                let t = secs(self, v);
                match cmp {
                    Cmp::Lt => bound(self, "<", t),
                    Cmp::Le => bound(self, "<", t.saturating_add(1)),
                    Cmp::Gt => bound(self, ">=", t.saturating_add(1)),
                    Cmp::Ge => bound(self, ">=", t),
                }
            }
            Test::Prefix(_) => self.push("1 = 1"),
        }
    }

    fn value(&self, v: &Value) -> Bind {
        match v.resolve(self.now) {
            Value::Text(s) => Bind::Text(s),
            Value::Integer(i) | Value::At(i) | Value::Ago(i) => Bind::Int(i),
            Value::Real(r) => Bind::Real(r),
        }
    }
}

/// The column expression of a plain field.
fn column(field: &Field, c: &str, a: &str) -> String {
    match field {
        Field::ResourceType => format!("{a}.resource_type"),
        Field::Type => format!("{a}.delivery_type"),
        Field::PublicId => format!("{a}.public_id{c}"),
        Field::Folder => format!("{a}.folder{c}"),
        Field::Filename | Field::DisplayName => format!("{a}.filename{c}"),
        Field::Format => format!("{a}.format{c}"),
        Field::AssetId => format!("{a}.asset_id"),
        Field::Bytes => format!("{a}.bytes"),
        Field::Width => format!("{a}.width"),
        Field::Height => format!("{a}.height"),
        Field::Pixels => format!("({a}.width * {a}.height)"),
        Field::AspectRatio => format!("({a}.width * 1.0 / NULLIF({a}.height, 0))"),
        // Handled by `Sql::term`.
        _ => "NULL".into(),
    }
}

impl Sql {
    /// `FROM … WHERE` over the query's scope and expression (no cursor).
    /// `join` goes between the two (an aggregation's side table);
    /// `assets_needed` is false when only a count of tag rows is wanted.
    fn source_and_filter(
        &mut self,
        q: &AssetQuery,
        shape: &Shape,
        join: &str,
        assets_needed: bool,
    ) {
        let c = self.c();
        let alias = match &shape.driver {
            None => {
                self.push(" FROM assets a");
                "a"
            }
            Some(_) => {
                self.driving = true;
                self.push(" FROM asset_tags d");
                let rest_on_assets = shape.rest.as_ref().is_some_and(|e| !on_tag_rows(e));
                if assets_needed || rest_on_assets || !join.is_empty() {
                    self.push(
                        " JOIN assets a ON a.cloud = d.cloud AND a.resource_type = d.resource_type \
                         AND a.delivery_type = d.delivery_type AND a.public_id = d.public_id",
                    );
                }
                "d"
            }
        };
        self.push(join);
        self.push(&format!(" WHERE {alias}.cloud = "));
        self.bind(Bind::Text(q.cloud.as_str().to_owned()));
        if let Some(tag) = &shape.driver {
            self.push(&format!(" AND d.tag{c} = "));
            self.bind(Bind::Text(tag.clone()));
        }
        self.scope_on(q, alias);
        if let Some(e) = &shape.rest {
            self.push(" AND ");
            if shape.driver.is_some() && on_tag_rows(e) {
                // Tested on the index rows, before (or without) the join.
                self.expr_on(e, "d");
            } else {
                self.expr(e);
            }
        }
    }

    /// `COUNT` of an expression led by an OR of tags (`(tags:a OR tags:b)
    /// AND …`) whose rest can be tested on tag rows, from the tag index
    /// alone, as terms to add up: per tag, the assets with that tag and
    /// none of the tags before it. Whether an asset has an earlier tag is
    /// first read off its row's `tag_bits`; only a set bit (the tag, or
    /// another one sharing its bit) costs a probe. Measured on a million
    /// assets against |A| + |B| − |A ∩ B| with a probe per row: 28 ms
    /// instead of 100 on SQLite, 40 instead of 60 on PostgreSQL, before the
    /// terms ran side by side. `None` when the expression has another shape.
    fn any_of_tags_terms(dialect: Dialect, q: &AssetQuery) -> Option<Vec<Sql>> {
        let (mut tags, rest) = split_any_of_tags(&q.expr)?;
        if rest.as_ref().is_some_and(|e| !on_tag_rows(e)) {
            return None;
        }
        let mut seen = std::collections::HashSet::new();
        tags.retain(|t| seen.insert(t.clone()));
        let new = || Sql::new(dialect, q.now, q.cloud.as_str());
        if tags.len() <= MAX_SUMMED_TAGS {
            let terms = (0..tags.len()).map(|i| {
                let mut sql = new();
                sql.push("SELECT ");
                sql.count_first_tag_rows(q, &tags[i], &tags[..i], rest.as_ref());
                sql
            });
            return Some(terms.collect());
        }
        let mut sql = new();
        let c = sql.c();
        sql.push(
            "SELECT COUNT(*) FROM (SELECT DISTINCT d.resource_type, d.delivery_type, d.public_id \
             FROM asset_tags d WHERE d.cloud = ",
        );
        sql.bind(Bind::Text(q.cloud.as_str().to_owned()));
        sql.push(&format!(" AND d.tag{c} IN ("));
        for (i, t) in tags.into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(Bind::Text(t));
        }
        sql.push(")");
        sql.scope_and_rest(q, rest.as_ref());
        sql.push(") t");
        Some(vec![sql])
    }

    /// `(SELECT COUNT(*) …)` of the assets with `tag`, passing `rest`, that
    /// have none of `earlier`.
    fn count_first_tag_rows(
        &mut self,
        q: &AssetQuery,
        tag: &str,
        earlier: &[String],
        rest: Option<&Expr>,
    ) {
        let c = self.c();
        self.push("(SELECT COUNT(*) FROM asset_tags d WHERE d.cloud = ");
        self.bind(Bind::Text(q.cloud.as_str().to_owned()));
        self.push(&format!(" AND d.tag{c} = "));
        self.bind(Bind::Text(tag.to_owned()));
        self.scope_and_rest(q, rest);
        for other in earlier {
            // Bits of 0 are a row written before bits existed: probe it.
            // The probe is a scalar subquery, not NOT EXISTS, which
            // PostgreSQL turns into a hash of every row of the other tag
            // (a parallel scan of the table: 300 ms instead of 40).
            self.push(" AND ((d.tag_bits <> 0 AND (d.tag_bits & ");
            self.bind(Bind::Int(crate::sql::tag_bit(other)));
            self.push(&format!(
                ") = 0) OR (SELECT 1 FROM asset_tags y WHERE y.cloud = d.cloud \
                 AND y.tag{c} = "
            ));
            self.bind(Bind::Text(other.clone()));
            self.push(
                " AND y.created_at_us = d.created_at_us AND y.resource_type = d.resource_type \
                 AND y.delivery_type = d.delivery_type AND y.public_id = d.public_id \
                 LIMIT 1) IS NULL)",
            );
        }
        self.push(")");
    }

    /// `COUNT` of a lone `context.KEY` term from the context index alone:
    /// an asset has one row per key there, and its rows live and die with
    /// it in the same transaction, so the assets table need not be probed
    /// (measured: 2 ms instead of 77 for 4,440 matches in a million).
    fn count_one_context(&mut self, q: &AssetQuery) -> bool {
        let Some(Expr::Term(Term {
            field: Field::Context(key),
            test,
        })) = &q.expr
        else {
            return false;
        };
        let c = self.c();
        self.push("SELECT COUNT(*) FROM asset_context x WHERE x.cloud = ");
        self.bind(Bind::Text(q.cloud.as_str().to_owned()));
        self.push(" AND x.ctx_key = ");
        self.bind(Bind::Text(key.clone()));
        self.push(" AND ");
        self.text_test(&format!("x.ctx_value{c}"), test);
        self.scope_on(q, "x");
        true
    }

    /// The query's resource and delivery type, and `rest`, on tag rows `d`.
    fn scope_and_rest(&mut self, q: &AssetQuery, rest: Option<&Expr>) {
        self.scope_on(q, "d");
        if let Some(e) = rest {
            self.push(" AND ");
            self.expr_on(e, "d");
        }
    }

    /// ` AND` the query's resource and delivery type, on rows `alias`.
    fn scope_on(&mut self, q: &AssetQuery, alias: &str) {
        if let Some(rt) = q.resource_type {
            self.push(&format!(" AND {alias}.resource_type = "));
            self.bind(Bind::Text(rt.as_str().to_owned()));
        }
        if let Some(dt) = q.delivery_type {
            self.push(&format!(" AND {alias}.delivery_type = "));
            self.bind(Bind::Text(dt.as_str().to_owned()));
        }
    }

    /// `e` compiled against rows `alias` (tag rows carry the asset's
    /// scalar columns; see [`on_tag_rows`]).
    fn expr_on(&mut self, e: &Expr, alias: &'static str) {
        self.alias = alias;
        self.expr(e);
        self.alias = "a";
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// A search query, planned for its values each time: a cached generic plan
/// cannot know how selective a tag or prefix is, and PostgreSQL switches to
/// one after five runs (measured: p95 of an OR-of-tags page went from 1 ms
/// to 450 ms).
fn unprepared(text: &str) -> AnyQuery<'_> {
    sqlx::query(text).persistent(false)
}

fn bind_all<'q>(mut query: AnyQuery<'q>, binds: &[Bind]) -> AnyQuery<'q> {
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s.clone()),
            Bind::Int(i) => query.bind(*i),
            Bind::Real(r) => query.bind(*r),
        };
    }
    query
}

/// The most tags of an OR counted as a sum; more are de-duplicated.
const MAX_SUMMED_TAGS: usize = 16;

/// The most results one page may hold.
pub const MAX_PAGE: u32 = 500;

impl SqlCatalog {
    pub(super) async fn query_assets_impl(&self, q: &AssetQuery) -> Result<AssetPage> {
        let limit = q.limit.clamp(1, MAX_PAGE);
        let mut sort = q.sort.clone();
        if sort.is_empty() {
            sort.push((SortField::CreatedAt, Direction::Desc));
        }
        let mut sql = Sql::new(self.dialect, q.now, q.cloud.as_str());
        let cursor = q
            .cursor
            .as_ref()
            .map(|raw| decode_cursor(raw, &sort))
            .transpose()?;
        if !sql.any_of_tags_page(q, &sort, limit, cursor.as_deref()) {
            let shape = Shape::of(&q.expr);
            sql.selective = q.expr.as_ref().is_some_and(selective_side_term);
            sql.push("SELECT a.*");
            sql.source_and_filter(q, &shape, "", true);
            if let Some(at) = cursor {
                sql.after(&sort, at);
            }
        }
        let c = self.dialect.bytewise();
        let order: Vec<String> = sort
            .iter()
            .map(|(k, d)| {
                let dir = if *d == Direction::Asc { "ASC" } else { "DESC" };
                format!("{} {dir}", sort_column(*k, c, sql.time_order()))
            })
            .chain(["a.asset_id ASC".to_owned()])
            .collect();
        sql.push(&format!(
            " ORDER BY {} LIMIT {}",
            order.join(", "),
            limit + 1
        ));
        let text = self.q(&sql.text).into_owned();
        let rows = bind_all(unprepared(&text), &sql.binds)
            .fetch_all(&self.pool)
            .await?;
        let mut assets: Vec<Asset> = rows.iter().map(asset_from_row).collect::<Result<_>>()?;
        let more = assets.len() > limit as usize;
        assets.truncate(limit as usize);
        let next_cursor = match assets.last() {
            Some(last) if more => {
                let mut values: Vec<_> = sort.iter().map(|(k, _)| sort_value(last, *k)).collect();
                values.push(serde_json::Value::String(last.asset_id.clone()));
                Some(encode_cursor(values))
            }
            _ => None,
        };
        let total_count = if q.with_total {
            Some(self.count_assets(q).await?)
        } else {
            None
        };
        let mut aggregations = Vec::new();
        for field in &q.aggregate {
            aggregations.push((*field, self.aggregate(q, *field).await?));
        }
        Ok(AssetPage {
            assets,
            next_cursor,
            total_count,
            aggregations,
        })
    }

    async fn count_assets(&self, q: &AssetQuery) -> Result<i64> {
        let terms = Sql::any_of_tags_terms(self.dialect, q).unwrap_or_else(|| {
            let mut sql = Sql::new(self.dialect, q.now, q.cloud.as_str());
            if !sql.count_one_context(q) {
                sql.push("SELECT COUNT(*)");
                sql.source_and_filter(q, &Shape::of(&q.expr), "", false);
            }
            vec![sql]
        });
        // Terms run side by side on the pool's connections, each an index
        // range scan. Like the page and its count, they are separate
        // snapshots: a retag racing the count can shift it by that asset.
        let counts = terms.iter().map(|sql| async move {
            let text = self.q(&sql.text).into_owned();
            let row = bind_all(unprepared(&text), &sql.binds)
                .fetch_one(&self.pool)
                .await?;
            Ok::<i64, CatalogError>(row.try_get::<i64, _>(0)?)
        });
        let counts = futures_util::future::try_join_all(counts).await?;
        Ok(counts.into_iter().sum())
    }

    async fn aggregate(&self, q: &AssetQuery, field: AggregateField) -> Result<Vec<(String, i64)>> {
        let mut sql = Sql::new(self.dialect, q.now, q.cloud.as_str());
        let value = match field {
            AggregateField::Format => "COALESCE(a.format, '')",
            AggregateField::ResourceType => "a.resource_type",
            AggregateField::Type => "a.delivery_type",
            AggregateField::Tags => "x.tag",
        };
        sql.push(&format!("SELECT {value} AS v, COUNT(*) AS n"));
        let join = if field == AggregateField::Tags {
            format!(" JOIN asset_tags x ON {SAME_ASSET}")
        } else {
            String::new()
        };
        sql.source_and_filter(q, &Shape::of(&q.expr), &join, true);
        let c = self.dialect.bytewise();
        sql.push(&format!(
            " GROUP BY {value} ORDER BY COUNT(*) DESC, {value}{c} LIMIT 100"
        ));
        let text = self.q(&sql.text).into_owned();
        let rows = bind_all(unprepared(&text), &sql.binds)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_never_spliced() {
        let e = nubo_core::search::parse("public_id:\"x' OR 1=1 --\" AND tags:a*")
            .unwrap()
            .unwrap();
        let mut sql = Sql::new(Dialect::Postgres, 0, "c");
        sql.expr(&e);
        assert!(!sql.text.contains("OR 1=1"), "{}", sql.text);
        assert_eq!(sql.binds[0], Bind::Text("x' OR 1=1 --".into()));
        assert!(sql.text.contains("COLLATE \"C\""), "{}", sql.text);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let sort = [(SortField::PublicId, Direction::Asc)];
        let raw = encode_cursor(vec!["a/b".into(), "id1".into()]);
        assert_eq!(
            decode_cursor(&raw, &sort).unwrap(),
            vec![Bind::Text("a/b".into()), Bind::Text("id1".into())]
        );
        let wrong_shape = encode_cursor(vec![5.into(), "id1".into()]);
        assert!(decode_cursor(&wrong_shape, &sort).is_err());
        assert!(decode_cursor("!!!", &sort).is_err());
        assert!(decode_cursor(&encode_cursor(vec![]), &sort).is_err());
    }

    #[test]
    fn relative_times_resolve_when_compiled() {
        let e = nubo_core::search::parse("created_at>1d").unwrap().unwrap();
        let mut sql = Sql::new(Dialect::Sqlite, 100_000, "c");
        sql.expr(&e);
        assert_eq!(
            sql.binds,
            vec![Bind::Int((100_000 - 86_400 + 1) * 1_000_000)]
        );
        assert_eq!(sql.text, "a.created_at_us >= $1");
    }
}
