//! How a query is planned: which terms a tag row can answer, which term
//! drives the query from an index, and when matches are sorted instead of
//! walked in upload order.

use nubo_core::search::{Expr, Field, Term, Test, Value};

/// The tags of an `OR` made only of `tags=…` terms.
pub(super) fn any_of_tags(e: &Expr) -> Option<Vec<String>> {
    let Expr::Or(items) = e else { return None };
    items
        .iter()
        .map(|i| match i {
            Expr::Term(Term {
                field: Field::Tags,
                test: Test::Eq(Value::Text(t)),
            }) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// Whether every term of `e` can be tested on a tag row alone: tag rows
/// carry the key, the upload time and the scalar columns.
pub(super) fn on_tag_rows(e: &Expr) -> bool {
    match e {
        Expr::And(items) | Expr::Or(items) => items.iter().all(on_tag_rows),
        Expr::Not(inner) => on_tag_rows(inner),
        Expr::Term(t) => matches!(
            t.field,
            Field::ResourceType
                | Field::Type
                | Field::PublicId
                | Field::Format
                | Field::Bytes
                | Field::Width
                | Field::Height
                | Field::Pixels
                | Field::AspectRatio
                | Field::CreatedAt
                | Field::UploadedAt
                | Field::Tags
                | Field::Context(_)
                | Field::Metadata(_)
                | Field::Status
                | Field::Unknown(_)
        ),
    }
}

/// Whether the expression is, or ANDs, a context or metadata term that
/// names a value or a non-empty prefix: such terms match few assets.
pub(super) fn selective_side_term(e: &Expr) -> bool {
    let selective = |e: &Expr| match e {
        Expr::Term(Term {
            field: Field::Context(_) | Field::Metadata(_),
            test,
        }) => match test {
            Test::Eq(_) => true,
            Test::Prefix(p) => !p.is_empty(),
            _ => false,
        },
        _ => false,
    };
    match e {
        Expr::And(items) => items.iter().any(selective),
        other => selective(other),
    }
}

/// An OR of tags at the top of the expression, and what is ANDed with it.
pub(super) fn split_any_of_tags(expr: &Option<Expr>) -> Option<(Vec<String>, Option<Expr>)> {
    match expr.as_ref()? {
        e @ Expr::Or(_) => any_of_tags(e).map(|t| (t, None)),
        Expr::And(items) => {
            let at = items.iter().position(|i| any_of_tags(i).is_some())?;
            let mut rest = items.clone();
            let tags = any_of_tags(&rest.remove(at))?;
            let rest = match rest.len() {
                0 => None,
                1 => rest.pop(),
                _ => Some(Expr::And(rest)),
            };
            Some((tags, rest))
        }
        _ => None,
    }
}

/// How a query is run: a positive `tags=x` at the top of the expression
/// makes the tag index (which holds upload times) drive it, so listing a
/// frequent tag stops after one page and a rare one touches only its rows;
/// the rest of the expression filters what the index yields.
pub(super) struct Shape {
    pub(super) driver: Option<String>,
    pub(super) rest: Option<Expr>,
}

impl Shape {
    pub(super) fn of(expr: &Option<Expr>) -> Shape {
        let driver_of = |e: &Expr| match e {
            Expr::Term(Term {
                field: Field::Tags,
                test: Test::Eq(Value::Text(t)),
            }) => Some(t.clone()),
            _ => None,
        };
        match expr {
            Some(e @ Expr::Term(_)) if driver_of(e).is_some() => Shape {
                driver: driver_of(e),
                rest: None,
            },
            Some(Expr::And(items)) if items.iter().any(|i| driver_of(i).is_some()) => {
                let at = items
                    .iter()
                    .position(|i| driver_of(i).is_some())
                    .expect("checked");
                let mut rest = items.clone();
                let driver = driver_of(&rest.remove(at));
                let rest = match rest.len() {
                    0 => None,
                    1 => rest.pop(),
                    _ => Some(Expr::And(rest)),
                };
                Shape { driver, rest }
            }
            other => Shape {
                driver: None,
                rest: other.clone(),
            },
        }
    }
}
