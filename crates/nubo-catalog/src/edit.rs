//! Edits to an asset's tags and context, applied in the catalog's transaction.

use nubo_core::{Context, Tags};

/// A change to tags or context, as the `tags`, `context` and `explicit`
/// Upload API calls make them.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetEdit {
    AddTags(Vec<String>),
    RemoveTags(Vec<String>),
    ReplaceTags(Vec<String>),
    RemoveAllTags,
    AddContext(Context),
    RemoveContextKeys(Vec<String>),
    RemoveAllContext,
    /// `explicit`: replaces whichever of the two is given.
    Replace {
        tags: Option<Tags>,
        context: Option<Context>,
    },
}

impl AssetEdit {
    /// Applies the edit; returns whether anything changed.
    pub fn apply(&self, tags: &mut Tags, context: &mut Context) -> bool {
        let (before_tags, before_ctx) = (tags.clone(), context.clone());
        match self {
            AssetEdit::AddTags(add) => {
                for t in add {
                    // Validated by the service before it reaches the catalog.
                    let _ = tags.add(t);
                }
            }
            AssetEdit::RemoveTags(rm) => {
                for t in rm {
                    tags.remove(t);
                }
            }
            AssetEdit::ReplaceTags(new) => *tags = Tags::from_vec(new.clone()),
            AssetEdit::RemoveAllTags => *tags = Tags::default(),
            AssetEdit::AddContext(c) => context.merge(c.clone()),
            AssetEdit::RemoveContextKeys(keys) => {
                for k in keys {
                    context.0.remove(k);
                }
            }
            AssetEdit::RemoveAllContext => *context = Context::default(),
            AssetEdit::Replace {
                tags: new_tags,
                context: new_ctx,
            } => {
                if let Some(t) = new_tags {
                    *tags = t.clone();
                }
                if let Some(c) = new_ctx {
                    *context = c.clone();
                }
            }
        }
        *tags != before_tags || *context != before_ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_and_report_change() {
        let mut tags = Tags::parse_csv("a").unwrap();
        let mut ctx = Context::default();
        assert!(AssetEdit::AddTags(vec!["b".into()]).apply(&mut tags, &mut ctx));
        assert!(!AssetEdit::AddTags(vec!["b".into()]).apply(&mut tags, &mut ctx));
        assert_eq!(tags.as_slice(), ["a", "b"]);
        assert!(AssetEdit::ReplaceTags(vec!["c".into()]).apply(&mut tags, &mut ctx));
        assert_eq!(tags.as_slice(), ["c"]);
        let add = AssetEdit::AddContext(Context::parse("k=v|x=y").unwrap());
        assert!(add.apply(&mut tags, &mut ctx));
        assert!(AssetEdit::RemoveContextKeys(vec!["k".into()]).apply(&mut tags, &mut ctx));
        assert_eq!(ctx.0.len(), 1);
        assert!(AssetEdit::RemoveAllContext.apply(&mut tags, &mut ctx));
        assert!(AssetEdit::RemoveAllTags.apply(&mut tags, &mut ctx));
        assert!(tags.is_empty() && ctx.is_empty());
    }
}
