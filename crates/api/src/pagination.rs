//! Keyset pagination: `limit` and an opaque `cursor`, with the next page's address in the body and
//! in a `Link` header.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;

pub use fathom_service::parameters::{Cursor, parse_limit, parse_limit_in};

use crate::problem::Problem;

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
