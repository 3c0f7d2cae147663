//! Which representation a client asked for: `?format=` first, then `Accept` (RFC 9110, 12.5.1).

use axum::http::{HeaderMap, StatusCode, header};
use fathom_formats::RdfSyntax;

use crate::problem::Problem;

/// A representation of a record or list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    Json,
    Rdf(RdfSyntax),
    /// ISO 19115 metadata in the ISO 19139 XML encoding.
    Iso19139,
    /// schema.org `Dataset` JSON-LD (by `format=schemaorg`: its media type is JSON-LD's).
    SchemaOrg,
    /// DCMI Metadata Terms in XML.
    DublinCore,
    /// DCMI Metadata Terms in JSON(-LD) (by `format=dcterms-json`: its media type is JSON's).
    DublinCoreJson,
}

impl Representation {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Rdf(syntax) => syntax.media_type(),
            Self::Iso19139 => fathom_formats::iso::MEDIA_TYPE,
            Self::SchemaOrg => "application/ld+json",
            Self::DublinCore => fathom_formats::dcterms::MEDIA_TYPE,
            Self::DublinCoreJson => "application/json",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Rdf(syntax) => syntax.name(),
            Self::Iso19139 => "iso19139",
            Self::SchemaOrg => "schemaorg",
            Self::DublinCore => "dcterms",
            Self::DublinCoreJson => "dcterms-json",
        }
    }
}

/// The representations of a dataset: its JSON (preferred on a tie), DCAT-AP in each RDF syntax (the
/// JSON-LD one before schema.org's), ISO 19139, schema.org and DCMI terms.
pub const RECORD: [Representation; 9] = [
    Representation::Json,
    Representation::Rdf(RdfSyntax::Turtle),
    Representation::Rdf(RdfSyntax::JsonLd),
    Representation::Rdf(RdfSyntax::RdfXml),
    Representation::Rdf(RdfSyntax::NTriples),
    Representation::Iso19139,
    Representation::SchemaOrg,
    Representation::DublinCore,
    Representation::DublinCoreJson,
];

/// The representations of the catalogue: RDF only, Turtle preferred.
pub const CATALOG: [Representation; 4] = [
    Representation::Rdf(RdfSyntax::Turtle),
    Representation::Rdf(RdfSyntax::JsonLd),
    Representation::Rdf(RdfSyntax::RdfXml),
    Representation::Rdf(RdfSyntax::NTriples),
];

/// Chooses among `offered` (in the server's order of preference): by `format` when given (400 for a
/// name not offered), else by the `Accept` header (406 when it accepts none), else the first.
pub fn choose(
    offered: &[Representation],
    format: Option<&str>,
    headers: &HeaderMap,
) -> Result<Representation, Problem> {
    let first = offered[0];
    if let Some(name) = format {
        return offered
            .iter()
            .copied()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = offered.iter().map(|r| r.name()).collect();
                Problem::bad_parameter(
                    "format",
                    format!("`{name}` is not one of {}", names.join(", ")),
                )
            });
    }
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(first);
    };
    let ranges: Vec<(&str, f32)> = accept.split(',').filter_map(media_range).collect();
    let mut best: Option<(Representation, f32)> = None;
    for &candidate in offered {
        let q = quality(&ranges, candidate.media_type());
        if q > 0.0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((candidate, q));
        }
    }
    best.map(|(representation, _)| representation)
        .ok_or_else(|| {
            let types: Vec<_> = offered.iter().map(|r| r.media_type()).collect();
            Problem::new(
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "`Accept: {accept}` names nothing offered here: {}",
                    types.join(", ")
                ),
            )
        })
}

/// One media range of an `Accept` header with its weight (1 when not given).
fn media_range(raw: &str) -> Option<(&str, f32)> {
    let mut parts = raw.split(';').map(str::trim);
    let range = parts.next().filter(|r| r.contains('/'))?;
    let q = parts
        .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
        .find_map(|q| q.parse::<f32>().ok())
        .unwrap_or(1.0);
    Some((range, q.clamp(0.0, 1.0)))
}

/// The weight of `media_type` by the most specific range that matches it (0 when none does).
fn quality(ranges: &[(&str, f32)], media_type: &str) -> f32 {
    let (kind, _) = media_type.split_once('/').unwrap_or((media_type, ""));
    let specificity = |range: &str| {
        if range.eq_ignore_ascii_case(media_type) {
            Some(3)
        } else if range
            .strip_suffix("/*")
            .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        {
            Some(2)
        } else if range == "*/*" {
            Some(1)
        } else {
            None
        }
    };
    ranges
        .iter()
        .filter_map(|&(range, q)| specificity(range).map(|s| (s, q)))
        .max_by_key(|&(s, _)| s)
        .map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accept_header_picks_the_best_weighted_offer() {
        let turtle = Representation::Rdf(RdfSyntax::Turtle);
        let json_ld = Representation::Rdf(RdfSyntax::JsonLd);
        let cases = [
            ("text/turtle", turtle),
            ("application/ld+json, application/json;q=0.5", json_ld),
            (
                "text/html,application/xhtml+xml,*/*;q=0.8",
                Representation::Json,
            ),
            ("text/*", turtle),
            ("*/*;q=0.1, text/turtle;q=0", Representation::Json),
            (
                "application/rdf+xml;q=0.9, application/n-triples",
                Representation::Rdf(RdfSyntax::NTriples),
            ),
            ("application/vnd.iso.19139+xml", Representation::Iso19139),
            ("application/xml", Representation::DublinCore),
            ("application/ld+json", json_ld),
        ];
        for (header, expected) in cases {
            assert_eq!(
                choose(&RECORD, None, &accept(header)).unwrap(),
                expected,
                "{header}"
            );
        }
        assert_eq!(
            choose(&RECORD, None, &HeaderMap::new()).unwrap(),
            Representation::Json
        );
    }

    #[test]
    fn format_overrides_accept_and_unknown_offers_are_refused() {
        let chosen = choose(&RECORD, Some("dcterms-json"), &HeaderMap::new()).unwrap();
        assert_eq!(chosen, Representation::DublinCoreJson);
        assert_eq!(
            choose(&RECORD, None, &accept("application/json")).unwrap(),
            Representation::Json
        );
        let chosen = choose(&RECORD, Some("nt"), &accept("text/turtle")).unwrap();
        assert_eq!(chosen, Representation::Rdf(RdfSyntax::NTriples));
        assert_eq!(
            choose(&RECORD, Some("xls"), &HeaderMap::new())
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            choose(&CATALOG, Some("json"), &HeaderMap::new())
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            choose(&RECORD, None, &accept("image/png"))
                .unwrap_err()
                .status,
            406
        );
        assert_eq!(
            choose(&CATALOG, None, &accept("application/json"))
                .unwrap_err()
                .status,
            406
        );
    }
}
