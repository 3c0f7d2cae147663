//! Metadata profiles as the catalogue registers them: named, versioned JSON Schema documents
//! (checked and compiled by `fathom-profiles`) that datasets declare they conform to.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::values::Slug;

/// A semantic version, `MAJOR.MINOR.PATCH`: a new major version may break compatibility, a new
/// minor or patch version may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid =
            || format!("`{raw}` is not a semantic version MAJOR.MINOR.PATCH, such as 1.0.0");
        let parts: Vec<&str> = raw.split('.').collect();
        let [major, minor, patch] = parts.as_slice() else {
            return Err(invalid());
        };
        let number = |part: &str| {
            let plain = !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            // Each number is stored as a signed 64-bit integer.
            plain
                .then(|| part.parse::<i64>().ok())
                .flatten()
                .map(i64::unsigned_abs)
                .ok_or_else(invalid)
        };
        Ok(Self {
            major: number(major)?,
            minor: number(minor)?,
            patch: number(patch)?,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl TryFrom<String> for Version {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Version> for String {
    fn from(version: Version) -> Self {
        version.to_string()
    }
}

/// One registered version of a profile. Immutable once registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileVersion {
    #[schema(value_type = String, example = "oceanographic-cruise")]
    pub profile: Slug,
    #[schema(value_type = String, example = "1.0.0")]
    pub version: Version,
    /// The JSON Schema (2020-12) a conforming dataset's `extensions.{profile}` must satisfy.
    #[schema(value_type = Object)]
    pub schema: serde_json::Value,
    /// Who registered it.
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A profile a dataset conforms to, at one version (`dct:conformsTo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileRef {
    #[schema(value_type = String, example = "oceanographic-cruise")]
    pub profile: Slug,
    #[schema(value_type = String, example = "1.0.0")]
    pub version: Version,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_strictly_and_order_numerically() {
        assert_eq!(Version::parse("1.10.0").unwrap().to_string(), "1.10.0");
        assert!(Version::parse("1.2.0").unwrap() < Version::parse("1.10.0").unwrap());
        for bad in [
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.a.0",
            "",
            "1..0",
            "-1.0.0",
            "9223372036854775808.0.0",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }
}
