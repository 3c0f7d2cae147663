//! Organisations publish datasets and, later, hold members with roles.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::validation::ValidationErrors;
use crate::values::{Nation, Slug};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    #[serde(flatten)]
    pub details: OrganisationDraft,
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What an organisation is, valid by construction. The slug never changes once created, because
/// datasets refer to their organisation by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrganisationDraft {
    #[schema(value_type = String, example = "cmre")]
    pub slug: Slug,
    pub name: String,
    /// ISO 3166-1 alpha-3.
    #[schema(value_type = String, example = "ITA")]
    pub nation: Nation,
    #[serde(default)]
    pub description: String,
}

/// An organisation as a client sends it; read-only fields are accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    #[schema(value_type = String, required = true, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<String>,
    /// 1 to 300 characters on one line, not all spaces.
    #[schema(value_type = String, required = true, max_length = 300,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub name: Option<String>,
    /// An ISO 3166-1 alpha-3 code.
    #[schema(required = true, schema_with = crate::values::Nation::schema)]
    pub nation: Option<String>,
    pub description: Option<String>,
    #[schema(read_only)]
    pub id: Option<serde_json::Value>,
    #[schema(read_only)]
    pub revision: Option<serde_json::Value>,
    #[schema(read_only)]
    pub created_at: Option<serde_json::Value>,
    #[schema(read_only)]
    pub updated_at: Option<serde_json::Value>,
}

impl OrganisationInput {
    pub fn parse(self) -> Result<OrganisationDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let slug = errors
            .require("/slug", self.slug)
            .and_then(|s| errors.check("/slug", Slug::parse(&s)));
        let name = errors.require("/name", self.name).and_then(|n| {
            let name = n.trim().to_owned();
            let valid = !name.is_empty()
                && name.chars().count() <= 300
                && !name.chars().any(char::is_control);
            errors.check(
                "/name",
                if valid {
                    Ok(name)
                } else {
                    Err("must be 1 to 300 characters on one line".into())
                },
            )
        });
        let nation = errors
            .require("/nation", self.nation)
            .and_then(|n| errors.check("/nation", Nation::parse(&n)));
        let description = self.description.unwrap_or_default();
        if description.len() > 100_000 {
            errors.push("/description", "must be at most 100000 bytes");
        }
        match (slug, name, nation) {
            (Some(slug), Some(name), Some(nation)) if errors.is_empty() => Ok(OrganisationDraft {
                slug,
                name,
                nation,
                description,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_need_slug_name_and_nation() {
        let errors = OrganisationInput {
            nation: Some("Norway".into()),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        let pointers: Vec<_> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/slug", "/name", "/nation"]);
        let ok = OrganisationInput {
            slug: Some("nhs".into()),
            name: Some(" Norwegian Hydrographic Service ".into()),
            nation: Some("NOR".into()),
            ..Default::default()
        };
        assert_eq!(ok.parse().unwrap().name, "Norwegian Hydrographic Service");
    }
}
