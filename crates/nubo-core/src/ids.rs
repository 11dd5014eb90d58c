//! Random identifiers handed out by the service.

use rand::Rng;
use std::fmt;

const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random characters of `[a-z0-9]`: Cloudinary's style for generated
/// public ids (20 chars) and `unique_filename` suffixes (6 chars).
pub fn random_id(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())] as char)
        .collect()
}

macro_rules! hex_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id: 32 lowercase hex characters.
            pub fn random() -> Self {
                Self(hex::encode(rand::random::<[u8; 16]>()))
            }
            /// Accepts 32 lowercase hex characters.
            pub fn parse(raw: &str) -> Option<Self> {
                let ok = raw.len() == 32
                    && raw.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                ok.then(|| Self(raw.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

hex_id!(
    /// Stable identity of an asset across overwrites and renames.
    AssetId
);
hex_id!(
    /// Identity of one stored version of an asset.
    VersionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_cloudinary_shape() {
        let a = AssetId::random();
        assert_eq!(a.as_str().len(), 32);
        assert_eq!(AssetId::parse(a.as_str()), Some(a.clone()));
        assert_ne!(a, AssetId::random());
        assert!(AssetId::parse("XYZ").is_none());
        let r = random_id(20);
        assert_eq!(r.len(), 20);
        assert!(r.bytes().all(|b| ID_ALPHABET.contains(&b)));
    }
}
