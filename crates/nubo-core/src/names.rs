//! Names users choose or send: clouds, resource and delivery types, public
//! ids, folders and tags.

use std::fmt;

/// Why a name was refused. The text is shown to API clients as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Invalid cloud name {0:?}: use 1-64 characters of a-z, 0-9, '_' and '-'")]
    CloudName(String),
    #[error("Invalid resource type {0}")]
    ResourceType(String),
    #[error("Invalid type parameter {0}")]
    DeliveryType(String),
    #[error("Invalid public_id {value:?}: {why}")]
    PublicId { value: String, why: &'static str },
    #[error("Invalid tag {value:?}: {why}")]
    Tag { value: String, why: &'static str },
}

/// The account an asset lives in: the `{cloud}` of every URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloudName(String);

impl CloudName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(NameError::CloudName(raw.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CloudName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident, $err:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(raw: &str) -> Result<Self, NameError> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    other => Err(NameError::$err(other.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// The kind of an asset, which decides how it may be transformed.
    ResourceType, ResourceType { Image => "image", Video => "video", Raw => "raw" }
);

str_enum!(
    /// The `{rt}` of an upload URL: a resource type, or `auto` (decided from the bytes).
    UploadResourceType, ResourceType { Image => "image", Video => "video", Raw => "raw", Auto => "auto" }
);

str_enum!(
    /// Who may read an asset: `upload` is public, `private` needs a signed URL
    /// for the original, `authenticated` needs one for every version;
    /// `text` images are made by the `text` Upload API method and public.
    DeliveryType, DeliveryType { Upload => "upload", Private => "private", Authenticated => "authenticated", Text => "text" }
);

impl UploadResourceType {
    /// The fixed resource type, or `None` for `auto`.
    pub fn fixed(self) -> Option<ResourceType> {
        match self {
            UploadResourceType::Image => Some(ResourceType::Image),
            UploadResourceType::Video => Some(ResourceType::Video),
            UploadResourceType::Raw => Some(ResourceType::Raw),
            UploadResourceType::Auto => None,
        }
    }
}

impl DeliveryType {
    /// Whether the original may be served without a URL signature.
    pub fn is_public(self) -> bool {
        matches!(self, DeliveryType::Upload | DeliveryType::Text)
    }
}

/// Characters Cloudinary documents as forbidden in public ids.
const FORBIDDEN_IN_ID: &[char] = &['?', '&', '#', '\\', '%', '<', '>', '+'];
/// Cloudinary's documented maximum public id length.
pub const MAX_PUBLIC_ID_CHARS: usize = 255;

/// An asset's name within a (cloud, resource type, delivery type), e.g.
/// `folder1/my_pic`. Slashes separate folders; raw ids keep their extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicId(String);

impl PublicId {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let fail = |why| {
            Err(NameError::PublicId {
                value: raw.to_owned(),
                why,
            })
        };
        if raw.is_empty() {
            return fail("it is empty");
        }
        if raw.chars().count() > MAX_PUBLIC_ID_CHARS {
            return fail("it is longer than 255 characters");
        }
        if raw.starts_with([' ', '/']) || raw.ends_with([' ', '/']) {
            return fail("it may not begin or end with a space or '/'");
        }
        if raw
            .chars()
            .any(|c| c.is_control() || FORBIDDEN_IN_ID.contains(&c))
        {
            return fail("it may not contain control characters or any of ? & # \\ % < > +");
        }
        if raw
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return fail("it may not contain empty, '.' or '..' path segments");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Everything before the last `/`, or `""` at the root (fixed-folder mode).
    pub fn folder(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(folder, _)| folder)
    }

    /// The last path segment: Cloudinary's default `display_name`.
    pub fn basename(&self) -> &str {
        self.0
            .rsplit_once('/')
            .map_or(self.0.as_str(), |(_, name)| name)
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A folder path as given by the `folder` parameter, normalised: no leading,
/// trailing or doubled slashes. The root folder is empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folder(String);

impl Folder {
    pub fn parse(raw: &str) -> Self {
        let joined: Vec<&str> = raw.split('/').filter(|s| !s.trim().is_empty()).collect();
        Self(joined.join("/"))
    }

    /// `folder/name`, or `name` at the root.
    pub fn join(&self, name: &str) -> String {
        if self.0.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{}", self.0, name)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Maximum length of one tag, as Cloudinary documents it.
pub const MAX_TAG_CHARS: usize = 255;

/// An asset's tags: unique, in insertion order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Parses a comma-separated list (`a,b`). Blank items are dropped.
    pub fn parse_csv(raw: &str) -> Result<Self, NameError> {
        let mut tags = Tags::default();
        for item in raw.split(',') {
            tags.add(item)?;
        }
        Ok(tags)
    }

    pub fn from_vec(items: Vec<String>) -> Self {
        let mut tags = Tags::default();
        for t in items {
            if !t.is_empty() && !tags.0.contains(&t) {
                tags.0.push(t);
            }
        }
        tags
    }

    /// Adds a tag unless present. Returns whether it changed anything.
    pub fn add(&mut self, raw: &str) -> Result<bool, NameError> {
        let tag = raw.trim();
        if tag.is_empty() || self.0.iter().any(|t| t == tag) {
            return Ok(false);
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(NameError::Tag {
                value: tag.to_owned(),
                why: "it is longer than 255 characters",
            });
        }
        if tag.chars().any(char::is_control) {
            return Err(NameError::Tag {
                value: tag.to_owned(),
                why: "it contains control characters",
            });
        }
        self.0.push(tag.to_owned());
        Ok(true)
    }

    pub fn remove(&mut self, tag: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|t| t != tag);
        before != self.0.len()
    }

    pub fn contains(&self, tag: &str) -> bool {
        self.0.iter().any(|t| t == tag)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_follow_cloudinary_rules() {
        for ok in [
            "sample",
            "folder1/my pic",
            "docs/file.pdf",
            "ünï cödé",
            "a-b_c.d",
        ] {
            assert!(PublicId::parse(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "", "/lead", "trail/", " sp", "a//b", "a/../b", "./a", "a?b", "a#b", "a%20", "a\\b",
            "a&b", "a+b", "a\nb",
        ] {
            assert!(PublicId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(PublicId::parse(&"x".repeat(255)).is_ok());
        assert!(PublicId::parse(&"x".repeat(256)).is_err());
    }

    #[test]
    fn folder_and_basename() {
        let id = PublicId::parse("a/b/c").unwrap();
        assert_eq!(id.folder(), "a/b");
        assert_eq!(id.basename(), "c");
        let root = PublicId::parse("c").unwrap();
        assert_eq!(root.folder(), "");
        assert_eq!(root.basename(), "c");
    }

    #[test]
    fn folders_are_normalised() {
        assert_eq!(Folder::parse("/a//b/").join("x"), "a/b/x");
        assert_eq!(Folder::parse("").join("x"), "x");
        assert_eq!(Folder::parse("  /  ").join("x"), "x");
    }

    #[test]
    fn tags_are_unique_and_ordered() {
        let mut t = Tags::parse_csv("b, a,b,,c").unwrap();
        assert_eq!(t.as_slice(), ["b", "a", "c"]);
        assert!(!t.add("a").unwrap());
        assert!(t.remove("b"));
        assert_eq!(t.as_slice(), ["a", "c"]);
        assert!(Tags::parse_csv(&"x".repeat(256)).is_err());
    }

    #[test]
    fn cloud_names() {
        assert!(CloudName::parse("demo").is_ok());
        assert!(CloudName::parse("my-cloud_2").is_ok());
        for bad in ["", "Demo", "a/b", "a b", &"x".repeat(65)] {
            assert!(CloudName::parse(bad).is_err());
        }
    }

    #[test]
    fn enums_round_trip() {
        for rt in ResourceType::ALL {
            assert_eq!(ResourceType::parse(rt.as_str()).unwrap(), *rt);
        }
        for dt in DeliveryType::ALL {
            assert_eq!(DeliveryType::parse(dt.as_str()).unwrap(), *dt);
        }
        assert!(DeliveryType::parse("fetch").is_err());
        assert_eq!(UploadResourceType::parse("auto").unwrap().fixed(), None);
    }
}
