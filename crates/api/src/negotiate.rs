//! Which representation a client asked for: `?format=` first, then `Accept` (RFC 9110, 12.5.1).

use axum::http::{HeaderMap, StatusCode, header};
use fathom_formats::{FORMATS, Format};

use crate::problem::Problem;

/// The representations of a dataset: every format, Fathom's JSON first.
pub fn record() -> impl Iterator<Item = &'static Format> + Clone {
    FORMATS.iter()
}

/// The representations of the catalogue: DCAT-AP in RDF, Turtle first.
pub fn catalogue() -> impl Iterator<Item = &'static Format> + Clone {
    FORMATS.iter().filter(|format| format.is_catalogue())
}

/// Chooses among `offered` (in the server's order of preference): by `format` when given (400 for a
/// name not offered), else by the `Accept` header (406 when it accepts none), else the first.
pub fn choose(
    offered: impl Iterator<Item = &'static Format> + Clone,
    format: Option<&str>,
    headers: &HeaderMap,
) -> Result<&'static Format, Problem> {
    if let Some(name) = format {
        return offered
            .clone()
            .find(|offer| offer.name == name)
            .ok_or_else(|| {
                let names: Vec<_> = offered.map(|offer| offer.name).collect();
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
        return offered.clone().next().ok_or_else(|| {
            Problem::new(StatusCode::NOT_ACCEPTABLE, "no representation is offered")
        });
    };
    let ranges: Vec<(&str, f32)> = accept.split(',').filter_map(media_range).collect();
    let mut best: Option<(&'static Format, f32)> = None;
    for candidate in offered.clone() {
        let q = quality(&ranges, candidate.media_type);
        if q > 0.0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((candidate, q));
        }
    }
    best.map(|(chosen, _)| chosen).ok_or_else(|| {
        let types: Vec<_> = offered.map(|offer| offer.media_type).collect();
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

    fn chosen(
        offered: impl Iterator<Item = &'static Format> + Clone,
        headers: &HeaderMap,
    ) -> &'static str {
        choose(offered, None, headers).unwrap().name
    }

    #[test]
    fn accept_header_picks_the_best_weighted_offer() {
        let cases = [
            ("text/turtle", "ttl"),
            ("application/ld+json, application/json;q=0.5", "jsonld"),
            ("text/html,application/xhtml+xml,*/*;q=0.8", "json"),
            ("text/*", "ttl"),
            ("*/*;q=0.1, text/turtle;q=0", "json"),
            ("application/rdf+xml;q=0.9, application/n-triples", "nt"),
            ("application/vnd.iso.19139+xml", "iso19139"),
            ("application/xml", "dcterms"),
            ("application/ld+json", "jsonld"),
        ];
        for (header, expected) in cases {
            assert_eq!(chosen(record(), &accept(header)), expected, "{header}");
        }
        assert_eq!(chosen(record(), &HeaderMap::new()), "json");
        assert_eq!(chosen(catalogue(), &HeaderMap::new()), "ttl");
    }

    #[test]
    fn format_overrides_accept_and_unknown_offers_are_refused() {
        let by_name = |offered, name| choose(offered, Some(name), &HeaderMap::new());
        assert_eq!(
            by_name(record(), "dcterms-json").unwrap().name,
            "dcterms-json"
        );
        assert_eq!(by_name(record(), "oai_dc").unwrap().name, "oai_dc");
        assert_eq!(chosen(record(), &accept("application/json")), "json");
        let chosen = choose(record(), Some("nt"), &accept("text/turtle")).unwrap();
        assert_eq!(chosen.name, "nt");
        assert_eq!(by_name(record(), "xls").unwrap_err().status, 400);
        let refused = choose(catalogue(), Some("json"), &HeaderMap::new()).unwrap_err();
        assert_eq!(refused.status, 400);
        assert!(
            refused.detail.contains("ttl, jsonld, rdf, nt"),
            "{}",
            refused.detail
        );
        let refused = choose(record(), None, &accept("image/png")).unwrap_err();
        assert_eq!(refused.status, 406);
        let refused = choose(catalogue(), None, &accept("application/json")).unwrap_err();
        assert_eq!(refused.status, 406);
    }
}
