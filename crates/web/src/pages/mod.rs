//! One module per page type; each handler calls use cases and renders what they return.

pub mod account;
pub mod dataset;
pub mod errors;
pub mod history;
pub mod home;
pub mod model;
pub mod search;
pub mod vocabularies;

use std::collections::HashMap;

use fathom_service::ServiceError;

use crate::Ctx;

/// The name of every organisation by its slug, for pages that list publishers.
pub async fn organisation_names(ctx: &Ctx) -> Result<HashMap<String, String>, ServiceError> {
    let organisations = ctx.state.services.catalogue.organisations_by_slug().await?;
    Ok(organisations
        .into_iter()
        .map(|(slug, organisation)| (slug, organisation.details.name))
        .collect())
}

/// The datasets of these search hits, read in one query, as the reader may see them (a hit whose
/// record has since changed label or gone is left out by the read).
pub async fn datasets_of(
    ctx: &Ctx,
    hits: &[fathom_service::Hit],
) -> Result<Vec<fathom_model::Dataset>, ServiceError> {
    let ids: Vec<uuid::Uuid> = hits.iter().map(|hit| hit.id).collect();
    ctx.state
        .services
        .catalogue
        .datasets_by_ids(ctx.reader(), &ids)
        .await
}

/// What facet values read as: organisations and the domain model's entities by name, themes by the
/// last part of their IRI, the rest as they are.
#[derive(Debug, Default)]
pub struct Names {
    organisations: HashMap<String, String>,
    entities: HashMap<(fathom_model::EntityKind, String), String>,
}

impl Names {
    /// The organisations' names, and those of the entities counted in `facets` (one read).
    pub async fn of(
        ctx: &Ctx,
        facets: &std::collections::BTreeMap<&'static str, Vec<fathom_service::FacetCount>>,
    ) -> Result<Self, ServiceError> {
        let slugs: Vec<(fathom_model::EntityKind, &str)> = fathom_model::EntityKind::ALL
            .into_iter()
            .flat_map(|kind| {
                let counts = facets.get(kind.as_str()).into_iter().flatten();
                counts.map(move |count| (kind, count.value.as_str()))
            })
            .collect();
        Ok(Self {
            organisations: organisation_names(ctx).await?,
            entities: ctx.state.services.catalogue.entity_names(&slugs).await?,
        })
    }

    /// How `value` of `facet` reads.
    pub fn shown<'a>(&'a self, facet: fathom_service::Facet, value: &'a str) -> &'a str {
        use fathom_service::Facet;
        let name = match facet {
            Facet::Organisation => self.organisations.get(value),
            Facet::Entity(kind) => self.entities.get(&(kind, value.to_owned())),
            Facet::Theme => {
                return value
                    .rsplit(['/', '#'])
                    .find(|part| !part.is_empty())
                    .unwrap_or(value);
            }
            _ => None,
        };
        name.map_or(value, String::as_str)
    }
}

/// A query string of these pairs (`a=1&b=x%20y`), for links that keep a search's state.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// A search for one filter value: `/search?keyword=CTD`.
pub fn search_for(parameter: &str, value: &str) -> String {
    format!("/search?{}", query_string([(parameter, value)]))
}

/// `2024-09-01`.
pub fn date(at: time::OffsetDateTime) -> String {
    let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
    format!("{year:04}-{month:02}-{day:02}")
}

/// A count with thousands separated (`12,345`).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1000), "1,000");
        assert_eq!(super::grouped(1234567), "1,234,567");
    }
}
