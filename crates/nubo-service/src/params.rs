//! Request parameters as they arrived, merged from query and body.

use crate::ServiceError;

/// An ordered multimap of request fields. `name[]` repeats are kept as they
/// came, because signatures are computed over the collapsed form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The fields with `name[]` repeats collapsed to `name=v1,v2`, in order
    /// of first appearance: the form signatures are computed over.
    pub fn collapsed(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.0 {
            let bare = k.strip_suffix("[]").unwrap_or(k);
            match out.iter_mut().find(|(name, _)| name == bare) {
                Some((_, joined)) if k.ends_with("[]") => {
                    joined.push(',');
                    joined.push_str(v);
                }
                Some((_, existing)) => *existing = v.clone(),
                None => out.push((bare.to_owned(), v.clone())),
            }
        }
        out
    }

    /// The last non-empty value of a scalar field. Empty means absent, as
    /// the SDKs never send empty values.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A list field: repeated `name[]` items, or a comma-separated `name`.
    pub fn list(&self, name: &str) -> Vec<String> {
        let items = self.array_items(name);
        if !items.is_empty() {
            return items;
        }
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A list field whose items may themselves hold commas: repeated
    /// `name[]` items, or the single `name` value as it is.
    pub fn list_raw(&self, name: &str) -> Vec<String> {
        let items = self.array_items(name);
        if items.is_empty() {
            self.get(name).map(str::to_owned).into_iter().collect()
        } else {
            items
        }
    }

    /// Whether `name` arrived as repeated `name[]` items.
    pub fn is_array(&self, name: &str) -> bool {
        let array = format!("{name}[]");
        self.0.iter().any(|(k, _)| *k == array)
    }

    fn array_items(&self, name: &str) -> Vec<String> {
        let array = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, v)| *k == array && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean field: `1`/`0`/`true`/`false`, as the SDKs send them.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ServiceError> {
        match self.get(name) {
            None => Ok(None),
            Some("1") | Some("true") | Some("True") => Ok(Some(true)),
            Some("0") | Some("false") | Some("False") => Ok(Some(false)),
            Some(other) => Err(ServiceError::InvalidParam(format!(
                "Invalid boolean value for {name}: {other:?} (use true/false or 1/0)"
            ))),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        let array = format!("{name}[]");
        self.0
            .iter()
            .any(|(k, v)| (k == name || *k == array) && !v.is_empty())
    }

    /// Sets a field, replacing every value it had.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let array = format!("{name}[]");
        self.0.retain(|(k, _)| k != name && *k != array);
        self.0.push((name.to_owned(), value.into()));
    }

    pub fn remove(&mut self, name: &str) {
        let array = format!("{name}[]");
        self.0.retain(|(k, _)| k != name && *k != array);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_collapse_for_signing() {
        let p = Params::from_pairs([
            ("tag", "t1"),
            ("public_ids[]", "id1"),
            ("public_ids[]", "id2"),
            ("command", "add"),
        ]);
        assert_eq!(
            p.collapsed(),
            vec![
                ("tag".to_string(), "t1".to_string()),
                ("public_ids".to_string(), "id1,id2".to_string()),
                ("command".to_string(), "add".to_string()),
            ]
        );
        assert_eq!(p.list("public_ids"), ["id1", "id2"]);
        assert_eq!(
            Params::from_pairs([("tags", "a, b,")]).list("tags"),
            ["a", "b"]
        );
    }

    #[test]
    fn booleans_in_every_sdk_spelling() {
        for (raw, want) in [("1", true), ("0", false), ("true", true), ("false", false)] {
            assert_eq!(
                Params::from_pairs([("overwrite", raw)])
                    .flag("overwrite")
                    .unwrap(),
                Some(want)
            );
        }
        assert!(Params::from_pairs([("overwrite", "yes")])
            .flag("overwrite")
            .is_err());
        assert_eq!(Params::new().flag("overwrite").unwrap(), None);
    }
}
