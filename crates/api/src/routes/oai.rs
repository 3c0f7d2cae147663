//! `/oai`: OAI-PMH 2.0, the six verbs by GET or POST. The protocol's errors are answered as its own
//! `error` elements with status 200, as harvesters expect; what the caller may not see is not
//! listed, counted or named, exactly as if it did not exist.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_formats::oai::{
    ErrorCode, Item, ORGANISATION_SETS, Repository, Response as OaiResponse, Resumption, Verb,
    parse_identifier,
};
use fathom_formats::{Format, Record};
use fathom_model::{Organisation, values::parse_date};
use fathom_service::{OaiItem, OaiPage, OaiQuery, ResumeError};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::AppState;
use crate::extract::{Reader, content_type};
use crate::problem::Problem;

/// An OAI-PMH request by GET: the verb and its arguments in the query string.
#[utoipa::path(get, operation_id = "oai_get", path = "/oai", tag = "standards",
    params(
        ("verb" = String, Query, description = "Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords or GetRecord"),
        ("metadataPrefix" = Option<String>, Query, description = "oai_dc, dcat or iso19139 (ListMetadataFormats lists them)"),
        ("identifier" = Option<String>, Query), ("set" = Option<String>, Query),
        ("from" = Option<String>, Query, description = "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"),
        ("until" = Option<String>, Query), ("resumptionToken" = Option<String>, Query),
    ),
    responses((status = 200, description = "An OAI-PMH response, or one of its errors", content_type = "text/xml", body = String)))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    RawQuery(query): RawQuery,
) -> Response {
    respond(&state, &reader, query.as_deref().unwrap_or_default()).await
}

/// An OAI-PMH request by POST: the arguments as `application/x-www-form-urlencoded`.
#[utoipa::path(post, operation_id = "oai_post", path = "/oai", tag = "standards",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An OAI-PMH response, or one of its errors", content_type = "text/xml", body = String),
        (status = 415, description = "Not a form", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    if !content_type(&headers).starts_with("application/x-www-form-urlencoded") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "an OAI-PMH POST carries its arguments as application/x-www-form-urlencoded",
        ));
    }
    let Ok(arguments) = std::str::from_utf8(&body) else {
        return Ok(xml(OaiResponse::new(&state.site, now(), None)
            .error(ErrorCode::BadArgument, "the arguments are not UTF-8")));
    };
    Ok(respond(&state, &reader, arguments).await)
}

/// The arguments each verb takes: required, then optional. `resumptionToken` is exclusive.
fn arguments_of(verb: Verb) -> (&'static [&'static str], &'static [&'static str]) {
    match verb {
        Verb::Identify => (&[], &[]),
        Verb::ListMetadataFormats => (&[], &["identifier"]),
        Verb::ListSets => (&[], &["resumptionToken"]),
        Verb::ListIdentifiers | Verb::ListRecords => (
            &["metadataPrefix"],
            &["from", "until", "set", "resumptionToken"],
        ),
        Verb::GetRecord => (&["identifier", "metadataPrefix"], &[]),
    }
}

/// A failed request: the protocol's error, and whether the request is echoed with its arguments.
struct Refusal {
    code: ErrorCode,
    message: String,
    echo: bool,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    let echo = !matches!(code, ErrorCode::BadVerb | ErrorCode::BadArgument);
    Refusal {
        code,
        message: message.into(),
        echo,
    }
}

async fn respond(state: &AppState, reader: &Reader, raw: &str) -> Response {
    let at = now();
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_str(raw) {
        Ok(pairs) => pairs,
        Err(_) => {
            return xml(OaiResponse::new(&state.site, at, None).error(
                ErrorCode::BadArgument,
                "the arguments are not a valid query string",
            ));
        }
    };
    let echoed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    match answer(state, reader, &pairs, at).await {
        Ok(document) => xml(document),
        Err(Answer::Refused(refusal)) => {
            let arguments = refusal.echo.then_some(echoed.as_slice());
            xml(OaiResponse::new(&state.site, at, arguments).error(refusal.code, &refusal.message))
        }
        Err(Answer::Failed(problem)) => problem.into_response(),
    }
}

enum Answer {
    Refused(Refusal),
    /// Not the harvester's fault (the database is down): an HTTP error, for a retry.
    Failed(Problem),
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<fathom_service::ServiceError> for Answer {
    fn from(error: fathom_service::ServiceError) -> Self {
        Self::Failed(error.into())
    }
}

impl From<std::io::Error> for Answer {
    fn from(error: std::io::Error) -> Self {
        fathom_service::ServiceError::Fault(format!("cannot write a record: {error}")).into()
    }
}

async fn answer(
    state: &AppState,
    reader: &Reader,
    pairs: &[(String, String)],
    at: OffsetDateTime,
) -> Result<String, Answer> {
    let mut arguments: HashMap<&str, &str> = HashMap::new();
    for (name, value) in pairs {
        if arguments.insert(name, value).is_some() {
            let code = if name == "verb" {
                ErrorCode::BadVerb
            } else {
                ErrorCode::BadArgument
            };
            return Err(refuse(code, format!("the argument `{name}` is repeated")).into());
        }
    }
    let verb_name = arguments
        .remove("verb")
        .ok_or_else(|| refuse(ErrorCode::BadVerb, "the argument `verb` is missing"))?;
    let verb = Verb::parse(verb_name).ok_or_else(|| {
        refuse(
            ErrorCode::BadVerb,
            format!("`{verb_name}` is not an OAI-PMH verb"),
        )
    })?;
    let (required, optional) = arguments_of(verb);
    let known: HashSet<&str> = required.iter().chain(optional).copied().collect();
    if let Some(unknown) = arguments.keys().find(|name| !known.contains(*name)) {
        return Err(refuse(
            ErrorCode::BadArgument,
            format!("{} takes no argument `{unknown}`", verb.name()),
        )
        .into());
    }
    let token = arguments.get("resumptionToken").copied();
    if token.is_some() && arguments.len() > 1 {
        return Err(refuse(
            ErrorCode::BadArgument,
            "`resumptionToken` is an exclusive argument: send it alone with the verb",
        )
        .into());
    }
    if token.is_none()
        && let Some(missing) = required.iter().find(|name| !arguments.contains_key(*name))
    {
        return Err(refuse(
            ErrorCode::BadArgument,
            format!("{} needs the argument `{missing}`", verb.name()),
        )
        .into());
    }
    let echoed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let response = OaiResponse::new(&state.site, at, Some(&echoed));
    let reader = reader.principal();
    match verb {
        Verb::Identify => {
            let earliest = state.oai_pmh.earliest_change().await?;
            Ok(response.identify(&Repository {
                site: &state.site,
                earliest,
            }))
        }
        Verb::ListMetadataFormats => {
            if let Some(identifier) = arguments.get("identifier") {
                record(state, reader, identifier).await?;
            }
            Ok(response.metadata_formats())
        }
        Verb::ListSets => {
            if token.is_some() {
                return Err(refuse(
                    ErrorCode::BadResumptionToken,
                    "the list of sets is complete in one response: there is nothing to resume",
                )
                .into());
            }
            let organisations = state.catalogue.organisations_by_slug().await?;
            if organisations.is_empty() {
                return Err(refuse(
                    ErrorCode::NoSetHierarchy,
                    "there are no organisations, so no sets",
                )
                .into());
            }
            let mut sets: Vec<(&str, &str)> = organisations
                .values()
                .map(|o| (o.details.slug.as_str(), o.details.name.as_str()))
                .collect();
            sets.sort_unstable();
            Ok(response.sets(&sets))
        }
        Verb::GetRecord => {
            let format = metadata_format(arguments["metadataPrefix"])?;
            let item = record(state, reader, arguments["identifier"]).await?;
            let publishers = state.catalogue.organisations_by_slug().await?;
            let mut response = response;
            response.begin(Verb::GetRecord);
            response.record(&item_of(state, &item, &publishers), format)?;
            Ok(response.finish())
        }
        Verb::ListIdentifiers | Verb::ListRecords => {
            let page = match token {
                Some(token) => {
                    state
                        .oai_pmh
                        .resume(reader, token)
                        .await
                        .map_err(|error| match error {
                            ResumeError::Service(error) => Answer::from(error),
                            refused => {
                                refuse(ErrorCode::BadResumptionToken, refused.to_string()).into()
                            }
                        })?
                }
                None => {
                    let query = harvest_query(&arguments)?;
                    state.oai_pmh.begin(reader, query).await?
                }
            };
            if page.items.is_empty() {
                return Err(refuse(
                    ErrorCode::NoRecordsMatch,
                    "no record matches these arguments",
                )
                .into());
            }
            let format = metadata_format(&page.query.format)?;
            let publishers = state.catalogue.organisations_by_slug().await?;
            list(state, response, verb, &page, format, &publishers)
        }
    }
}

fn list(
    state: &AppState,
    mut response: OaiResponse<'_>,
    verb: Verb,
    page: &OaiPage,
    format: &Format,
    publishers: &HashMap<String, Organisation>,
) -> Result<String, Answer> {
    response.begin(verb);
    for harvested in &page.items {
        let item = item_of(state, harvested, publishers);
        if verb == Verb::ListRecords {
            response.record(&item, format)?;
        } else {
            response.header(&item);
        }
    }
    // A list in one page has no token; every page of a longer list has one (empty on the last).
    if page.next.is_some() || page.cursor > 0 {
        response.resumption(&Resumption {
            token: page.next.as_ref().map(|(token, _)| token.clone()),
            expires: page.next.as_ref().map(|(_, expires)| *expires),
            cursor: page.cursor,
            complete_list_size: page.complete_list_size,
        });
    }
    Ok(response.finish())
}

fn item_of<'a>(
    state: &'a AppState,
    harvested: &'a OaiItem,
    publishers: &'a HashMap<String, Organisation>,
) -> Item<'a> {
    match harvested {
        OaiItem::Live(dataset) => Item::Live(Record::new(
            &state.site,
            dataset,
            publishers.get(dataset.metadata.organisation.as_str()),
            state.catalogue.policy(),
        )),
        OaiItem::Deleted(tombstone) => Item::Deleted {
            id: tombstone.id,
            organisation: &tombstone.organisation,
            deleted_at: tombstone.deleted_at,
        },
    }
}

/// The record an identifier names, if the reader may know of it.
async fn record(
    state: &AppState,
    reader: Option<&fathom_model::Principal>,
    identifier: &str,
) -> Result<OaiItem, Answer> {
    let missing = || {
        refuse(
            ErrorCode::IdDoesNotExist,
            format!("`{identifier}` is not the identifier of a record here"),
        )
    };
    let id = parse_identifier(&state.site, identifier).ok_or_else(missing)?;
    Ok(state
        .oai_pmh
        .record(reader, id)
        .await?
        .ok_or_else(missing)?)
}

fn metadata_format(prefix: &str) -> Result<&'static Format, Refusal> {
    Format::of_oai_prefix(prefix).ok_or_else(|| {
        let offered: Vec<_> = Format::oai_formats().map(|oai| oai.prefix).collect();
        refuse(
            ErrorCode::CannotDisseminateFormat,
            format!(
                "`{prefix}` is not offered; the formats are {}",
                offered.join(", ")
            ),
        )
    })
}

/// The query of a list's first page: the format, the set and the interval of change.
fn harvest_query(arguments: &HashMap<&str, &str>) -> Result<OaiQuery, Refusal> {
    let prefix = arguments["metadataPrefix"];
    metadata_format(prefix)?;
    let from = arguments
        .get("from")
        .map(|v| datestamp_argument("from", v))
        .transpose()?;
    let until = arguments
        .get("until")
        .map(|v| datestamp_argument("until", v))
        .transpose()?;
    if let (Some((from, from_is_day)), Some((until, until_is_day))) = (from, until) {
        if from_is_day != until_is_day {
            return Err(refuse(
                ErrorCode::BadArgument,
                "`from` and `until` must have the same granularity",
            ));
        }
        if from > until {
            return Err(refuse(
                ErrorCode::BadArgument,
                "`from` is later than `until`",
            ));
        }
    }
    // `until` includes the whole day or second it names.
    let until = until.map(|(at, is_day)| {
        at + if is_day {
            Duration::days(1)
        } else {
            Duration::seconds(1)
        }
    });
    let organisation = match arguments.get("set").copied() {
        None | Some(ORGANISATION_SETS) => None,
        Some(set) => match set
            .strip_prefix(ORGANISATION_SETS)
            .and_then(|s| s.strip_prefix(':'))
        {
            Some(slug) => Some(slug.to_owned()),
            None => {
                return Err(refuse(
                    ErrorCode::NoRecordsMatch,
                    format!("there is no set `{set}`"),
                ));
            }
        },
    };
    Ok(OaiQuery {
        format: prefix.to_owned(),
        organisation,
        from: from.map(|(at, _)| at),
        until,
    })
}

/// A datestamp argument at either granularity the repository supports; `true` for a day.
fn datestamp_argument(name: &str, value: &str) -> Result<(OffsetDateTime, bool), Refusal> {
    let bad = || {
        refuse(
            ErrorCode::BadArgument,
            format!("`{name}` must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, not `{value}`"),
        )
    };
    match value.len() {
        10 => parse_date(value)
            .map(|date| (date.midnight().assume_utc(), true))
            .map_err(|_| bad()),
        20 if value.ends_with('Z') => OffsetDateTime::parse(value, &Rfc3339)
            .map(|at| (at, false))
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn xml(document: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        document,
    )
        .into_response()
}
