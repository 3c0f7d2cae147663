//! Keyset pagination: `limit` and an opaque `cursor`, with the next page's address in the body and
//! in a `Link` header.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::problem::Problem;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 1000;

/// Cursors are versioned so that their format can change without breaking stored links.
const CURSOR_AFTER_ID: u8 = 1;
const CURSOR_AFTER_NUMBER: u8 = 2;
const CURSOR_AFTER_MODIFIED: u8 = 3;
const CURSOR_AFTER_TEXT: u8 = 4;

/// The query of a plain keyset-paginated list: `limit` and `cursor`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// Opaque; from the previous page's `next`.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size, and where a list in order of creation starts.
    pub fn after_id(&self) -> Result<(u32, Option<Uuid>), Problem> {
        let limit = parse_limit(self.limit.as_deref())?;
        match self.cursor.as_deref().map(Cursor::decode).transpose()? {
            None => Ok((limit, None)),
            Some(Cursor::Id(id)) => Ok((limit, Some(id))),
            Some(Cursor::Number(_) | Cursor::Modified(..) | Cursor::Text(_)) => {
                Err(Problem::bad_parameter("cursor", "belongs to another list"))
            }
        }
    }

    /// The page size, and where a list ordered by a text key starts.
    pub fn after_text(&self) -> Result<(u32, Option<String>), Problem> {
        let limit = parse_limit(self.limit.as_deref())?;
        match self.cursor.as_deref().map(Cursor::decode).transpose()? {
            None => Ok((limit, None)),
            Some(Cursor::Text(key)) => Ok((limit, Some(key))),
            Some(Cursor::Id(_) | Cursor::Modified(..) | Cursor::Number(_)) => {
                Err(Problem::bad_parameter("cursor", "belongs to another list"))
            }
        }
    }

    /// The page size, and where a list of revisions starts (0: at the first).
    pub fn after_number(&self) -> Result<(u32, i64), Problem> {
        let limit = parse_limit(self.limit.as_deref())?;
        match self.cursor.as_deref().map(Cursor::decode).transpose()? {
            None => Ok((limit, 0)),
            Some(Cursor::Number(n)) => Ok((limit, n)),
            Some(Cursor::Id(_) | Cursor::Modified(..) | Cursor::Text(_)) => {
                Err(Problem::bad_parameter("cursor", "belongs to another list"))
            }
        }
    }
}

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

    pub fn decode(raw: &str) -> Result<Self, Problem> {
        let invalid = || {
            Problem::bad_parameter(
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
pub fn parse_limit(raw: Option<&str>) -> Result<u32, Problem> {
    parse_limit_in(raw, DEFAULT_LIMIT, MAX_LIMIT)
}

/// Parses `limit`: 1 to `max`, `default` when absent.
pub fn parse_limit_in(raw: Option<&str>, default: u32, max: u32) -> Result<u32, Problem> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                Problem::bad_parameter(
                    "limit",
                    format!("must be an integer from 1 to {max}, not `{raw}`"),
                )
            }),
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The address of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items: one more than asked means there is a next
    /// page, which starts after the last item kept. `next_url` gets the next page's cursor.
    pub fn from_fetched(
        mut items: Vec<T>,
        limit: u32,
        cursor_of: impl Fn(&T) -> Cursor,
        next_url: impl Fn(&str) -> String,
    ) -> Self {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = if more {
            items.last().map(|last| next_url(&cursor_of(last).encode()))
        } else {
            None
        };
        Self { items, next }
    }
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let link = self
            .next
            .as_ref()
            .and_then(|next| HeaderValue::try_from(format!("<{next}>; rel=\"next\"")).ok());
        let mut response = Json(self).into_response();
        if let Some(link) = link {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }
}

/// A query string rebuilt with `cursor` replaced, for `next` links.
pub fn with_cursor(path: &str, params: &[(&str, Option<&str>)], cursor: &str) -> String {
    let mut query: Vec<String> = params
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}={}", encode_component(v))))
        .collect();
    query.push(format!("cursor={cursor}"));
    format!("{path}?{}", query.join("&"))
}

fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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

    #[test]
    fn next_links_keep_filters() {
        let url = with_cursor(
            "/api/v1/datasets",
            &[
                ("limit", Some("2")),
                ("keyword", Some("sea ice")),
                ("organisation", None),
            ],
            "AQ",
        );
        assert_eq!(url, "/api/v1/datasets?limit=2&keyword=sea%20ice&cursor=AQ");
    }
}
