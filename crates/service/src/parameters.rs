//! The query parameters of reads, parsed once for every caller that takes them from a URL: the API
//! and the pages for people (whose search form sends the API's own parameters).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fathom_model::values::parse_instant;
use fathom_model::{BoundingBox, DatasetState, EntityKind};
use fathom_search::{EXACT_UP_TO, Facet, SearchRequest, Sort, TimeRange};
use time::OffsetDateTime;
use uuid::Uuid;

/// A query parameter that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{parameter}`: {message}")]
pub struct InvalidParameter {
    pub parameter: String,
    pub message: String,
}

impl InvalidParameter {
    pub fn new(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 1000;
/// The longest search text accepted, in characters.
pub const MAX_SEARCH_TEXT: usize = 500;
/// How deep search pages go (`offset + limit`): no deeper than the matches a search counts exactly,
/// so that a next page promised by an estimated total always exists.
pub const MAX_SEARCH_DEPTH: usize = EXACT_UP_TO;
/// The most results on one page of a search.
pub const MAX_SEARCH_LIMIT: u32 = 100;

/// Cursors are versioned so that their format can change without breaking stored links.
const CURSOR_AFTER_ID: u8 = 1;
const CURSOR_AFTER_NUMBER: u8 = 2;
const CURSOR_AFTER_MODIFIED: u8 = 3;
const CURSOR_AFTER_TEXT: u8 = 4;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// After this record, in a list in order of creation.
    Id(Uuid),
    /// After this record, in a list in order of change.
    Modified(OffsetDateTime, Uuid),
    /// After this number (a revision).
    Number(i64),
    /// After this sort key (in a list ordered by text, such as concepts by label).
    Text(String),
}

impl Cursor {
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(17);
        match self {
            Self::Id(id) => {
                bytes.push(CURSOR_AFTER_ID);
                bytes.extend_from_slice(id.as_bytes());
            }
            Self::Number(n) => {
                bytes.push(CURSOR_AFTER_NUMBER);
                bytes.extend_from_slice(&n.to_be_bytes());
            }
            Self::Text(key) => {
                bytes.push(CURSOR_AFTER_TEXT);
                bytes.extend_from_slice(key.as_bytes());
            }
            Self::Modified(at, id) => {
                bytes.push(CURSOR_AFTER_MODIFIED);
                let micros = i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX);
                bytes.extend_from_slice(&micros.to_be_bytes());
                bytes.extend_from_slice(id.as_bytes());
            }
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(raw: &str) -> Result<Self, InvalidParameter> {
        let invalid = || {
            InvalidParameter::new(
                "cursor",
                "is not a cursor this server issued; start again without it",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        match bytes.split_first() {
            Some((&CURSOR_AFTER_ID, rest)) => {
                Uuid::from_slice(rest).map(Self::Id).map_err(|_| invalid())
            }
            Some((&CURSOR_AFTER_NUMBER, rest)) => {
                let n: [u8; 8] = rest.try_into().map_err(|_| invalid())?;
                Ok(Self::Number(i64::from_be_bytes(n)))
            }
            Some((&CURSOR_AFTER_MODIFIED, rest)) if rest.len() == 24 => {
                let (micros, id) = rest.split_at(8);
                let micros = i64::from_be_bytes(micros.try_into().map_err(|_| invalid())?);
                let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                    .map_err(|_| invalid())?;
                Ok(Self::Modified(
                    at,
                    Uuid::from_slice(id).map_err(|_| invalid())?,
                ))
            }
            Some((&CURSOR_AFTER_TEXT, rest)) => String::from_utf8(rest.to_vec())
                .map(Self::Text)
                .map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

/// Parses `limit`: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn parse_limit(raw: Option<&str>) -> Result<u32, InvalidParameter> {
    parse_limit_in(raw, DEFAULT_LIMIT, MAX_LIMIT)
}

/// Parses `limit`: 1 to `max`, `default` when absent.
pub fn parse_limit_in(raw: Option<&str>, default: u32, max: u32) -> Result<u32, InvalidParameter> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                InvalidParameter::new(
                    "limit",
                    format!("must be an integer from 1 to {max}, not `{raw}`"),
                )
            }),
    }
}

/// The request of a search from its query parameters (those of `GET /api/v1/search`).
pub fn parse_search(pairs: &[(String, String)]) -> Result<SearchRequest, InvalidParameter> {
    let mut request = SearchRequest {
        limit: 50,
        ..Default::default()
    };
    let mut limit = None;
    for (name, value) in pairs {
        if let Some(kind) = EntityKind::parse(name) {
            request.entities.push((kind, value.clone()));
            continue;
        }
        match name.as_str() {
            "q" => {
                if value.chars().count() > MAX_SEARCH_TEXT {
                    return Err(InvalidParameter::new(
                        "q",
                        format!("must be at most {MAX_SEARCH_TEXT} characters"),
                    ));
                }
                request.text = Some(value.clone());
            }
            "match" => {
                request.match_any = match value.as_str() {
                    "all" => false,
                    "any" => true,
                    _ => {
                        return Err(InvalidParameter::new(
                            "match",
                            format!("`{value}` is not one of all, any"),
                        ));
                    }
                }
            }
            "bbox" => request.bbox = Some(parse_bbox(value)?),
            "datetime" => request.datetime = Some(parse_datetime(value)?),
            "organisation" => request.organisation.push(value.clone()),
            "keyword" => request.keyword.push(value.clone()),
            "theme" => request.theme.push(value.clone()),
            "format" => request.format.push(value.clone()),
            "licence" => request.licence.push(value.clone()),
            "language" => request.language.push(value.clone()),
            "state" => {
                let state = DatasetState::parse(value)
                    .map_err(|message| InvalidParameter::new("state", message))?;
                request.state.push(state.as_str().to_owned());
            }
            "facets" => {
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let facet = Facet::parse(name).ok_or_else(|| {
                        let names: Vec<&str> = Facet::ALL.iter().map(|f| f.name()).collect();
                        InvalidParameter::new(
                            "facets",
                            format!("`{name}` is not one of {}", names.join(", ")),
                        )
                    })?;
                    if !request.facets.contains(&facet) {
                        request.facets.push(facet);
                    }
                }
            }
            "sort" => {
                request.sort = Sort::parse(value).ok_or_else(|| {
                    InvalidParameter::new(
                        "sort",
                        format!("`{value}` is not one of relevance, modified, title"),
                    )
                })?;
            }
            "limit" => limit = Some(value.as_str()),
            "cursor" => {
                request.offset = match Cursor::decode(value)? {
                    Cursor::Number(n) if (0..MAX_SEARCH_DEPTH as i64).contains(&n) => n as usize,
                    _ => {
                        return Err(InvalidParameter::new(
                            "cursor",
                            "is not a cursor of this search",
                        ));
                    }
                }
            }
            other => {
                return Err(InvalidParameter::new(
                    other,
                    "is not a parameter of the search",
                ));
            }
        }
    }
    request.limit = parse_limit_in(limit, DEFAULT_LIMIT, MAX_SEARCH_LIMIT)? as usize;
    Ok(request)
}

pub fn parse_bbox(raw: &str) -> Result<BoundingBox, InvalidParameter> {
    let numbers: Result<Vec<f64>, _> = raw.split(',').map(|n| n.trim().parse::<f64>()).collect();
    let numbers = numbers.map_err(|_| {
        InvalidParameter::new("bbox", "must be four numbers: west,south,east,north")
    })?;
    BoundingBox::parse(&numbers).map_err(|message| InvalidParameter::new("bbox", message))
}

pub fn parse_datetime(raw: &str) -> Result<TimeRange, InvalidParameter> {
    let bound = |part: &str| -> Result<Option<time::OffsetDateTime>, InvalidParameter> {
        match part.trim() {
            "" | ".." => Ok(None),
            value => parse_instant(value)
                .map(Some)
                .map_err(|message| InvalidParameter::new("datetime", message)),
        }
    };
    let range = match raw.split_once('/') {
        Some((start, end)) => TimeRange {
            start: bound(start)?,
            end: bound(end)?,
        },
        None => {
            let instant = bound(raw)?;
            TimeRange {
                start: instant,
                end: instant,
            }
        }
    };
    if let (Some(start), Some(end)) = (range.start, range.end)
        && end < start
    {
        return Err(InvalidParameter::new(
            "datetime",
            "the end is before the start",
        ));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let id = Uuid::now_v7();
        let at = time::macros::datetime!(2026-11-24 10:00:00.123456 UTC);
        for cursor in [Cursor::Id(id), Cursor::Number(42), Cursor::Modified(at, id)] {
            assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
        for forged in [
            "",
            "!!",
            "AQ",
            "AwAAAAAAAAAAAAAAAAAAAAAA",
            &URL_SAFE_NO_PAD.encode([2, 1, 2]),
        ] {
            assert!(Cursor::decode(forged).is_err(), "{forged}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("1000")).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "ten", ""] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
