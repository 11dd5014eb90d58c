//! Contextual metadata: `k=v` pairs in Cloudinary's pipe encoding.

use std::collections::BTreeMap;

/// Why a context string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid context {0:?}: each entry must be key=value with a non-empty key")]
pub struct ContextError(pub String);

/// An asset's custom context: string keys to string values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context(pub BTreeMap<String, String>);

impl Context {
    /// Parses `alt=Hello \= world|caption=x\|y`: entries split on unescaped
    /// pipes, key from value on the first unescaped `=`, and `\=`, `\|`
    /// unescaped. An entry without `=` is a key with an empty value, as the
    /// SDKs never produce one but hand-written requests do.
    pub fn parse(raw: &str) -> Result<Self, ContextError> {
        let mut map = BTreeMap::new();
        for entry in split_unescaped(raw, '|') {
            if entry.is_empty() {
                continue;
            }
            let mut parts = split_unescaped(&entry, '=').into_iter();
            let key = unescape(&parts.next().unwrap_or_default());
            let rest: Vec<String> = parts.collect();
            let value = unescape(&rest.join("="));
            if key.trim().is_empty() {
                return Err(ContextError(raw.to_owned()));
            }
            map.insert(key, value);
        }
        Ok(Self(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Overlays `other` on `self` (the `context` `add` command).
    pub fn merge(&mut self, other: Context) {
        self.0.extend(other.0);
    }
}

/// Splits on `sep` where it is not preceded by a backslash; keeps escapes.
fn split_unescaped(raw: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let last = out.last_mut().expect("never empty");
            last.push(c);
            if let Some(n) = chars.next() {
                last.push(n);
            }
        } else if c == sep {
            out.push(String::new());
        } else {
            out.last_mut().expect("never empty").push(c);
        }
    }
    out
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('=') | Some('|')) {
            out.push(chars.next().expect("peeked"));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_captured_sdk_encoding() {
        let c = Context::parse(r"alt=Hello \= world|caption=x\|y").unwrap();
        assert_eq!(c.0["alt"], "Hello = world");
        assert_eq!(c.0["caption"], "x|y");
        assert_eq!(c.0.len(), 2);
    }

    #[test]
    fn value_may_contain_unescaped_equals_after_the_first() {
        let c = Context::parse("k=a=b").unwrap();
        assert_eq!(c.0["k"], "a=b");
    }

    #[test]
    fn empty_key_is_refused() {
        assert!(Context::parse("=v").is_err());
        assert!(Context::parse("").unwrap().is_empty());
        assert_eq!(Context::parse("flag").unwrap().0["flag"], "");
    }
}
