//! `/search`: the API's search as a page. The form is a plain GET with the parameters of
//! `/api/v1/search`, so that every state of a search has an address; facets are checkboxes.

use std::collections::HashMap;

use std::sync::Arc;

use axum::extract::{Query, RawQuery};
use axum::response::{IntoResponse, Response};
use fathom_model::Dataset;
use fathom_service::parameters::{Cursor, MAX_SEARCH_DEPTH, parse_search};
use fathom_service::{Facet, Hit, SearchRequest, SearchResults, ServiceError};
use maud::{Markup, PreEscaped, html};
use uuid::Uuid;

use super::{Names, datasets_of, grouped, query_string};
use crate::i18n::{Arg, messages};
use crate::layout::{for_this_reader, portion};
use crate::map::{Extent, map};
use crate::{Ctx, Page, markdown};

/// Results on a page, unless the address says otherwise (`limit`).
const PAGE_SIZE: &str = "20";
/// Entries of a feed, unless the address says otherwise.
const FEED_SIZE: &str = "50";
/// The facets shown beside the results, in this order: each is also a filter of the search.
const FACETS: [Facet; 11] = [
    Facet::Keyword,
    Facet::Organisation,
    Facet::Entity(fathom_model::EntityKind::Domain),
    Facet::Entity(fathom_model::EntityKind::Project),
    Facet::Entity(fathom_model::EntityKind::Campaign),
    Facet::Entity(fathom_model::EntityKind::Platform),
    Facet::Entity(fathom_model::EntityKind::Instrument),
    Facet::Entity(fathom_model::EntityKind::ObservedProperty),
    Facet::Format,
    Facet::Licence,
    Facet::Theme,
];

pub async fn search(ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let page = search_page(&ctx, raw.as_deref().unwrap_or("")).await;
    ctx.respond(page)
}

/// A search as the pages run it: its parameters (without empty fields), and what it found that
/// the reader may see.
struct Found {
    pairs: Vec<(String, String)>,
    offset: usize,
    limit: usize,
    words: String,
    results: Arc<SearchResults>,
    datasets: Vec<Dataset>,
    names: Names,
}

/// Runs the search of this query string (the API's parameters) with `facets`, `limit` results by
/// default.
async fn run_search(
    ctx: &Ctx,
    raw: &str,
    facets: &[Facet],
    limit: &str,
) -> Result<Found, ServiceError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| ServiceError::Malformed(format!("the query string cannot be read: {e}")))?;
    // An empty field of the form is no parameter; the page asks for its own facets.
    let mut pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(name, value)| !value.trim().is_empty() && name != "facets")
        .collect();
    if !pairs.iter().any(|(name, _)| name == "limit") {
        pairs.push(("limit".to_owned(), limit.to_owned()));
    }
    let mut request = parse_search(&pairs)?;
    request.facets = facets.to_vec();
    let (offset, limit) = (request.offset, request.limit);
    let words = request.text.clone().unwrap_or_default();
    let results = ctx.state.search.search(ctx.reader(), request).await?;
    let datasets = datasets_of(ctx, &results.hits).await?;
    let names = Names::of(ctx, &results.facets).await?;
    Ok(Found {
        pairs,
        offset,
        limit,
        words,
        results,
        datasets,
        names,
    })
}

async fn search_page(ctx: &Ctx, raw: &str) -> Result<Page, ServiceError> {
    let text = messages();
    let Found {
        pairs,
        offset,
        limit,
        words,
        results,
        datasets,
        names,
    } = run_search(ctx, raw, &[&FACETS[..], &[Facet::Year]].concat(), PAGE_SIZE).await?;
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(name, _)| name != "cursor")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let at = |offset: usize| -> String {
        let cursor = Cursor::Number(offset as i64).encode();
        let mut pairs = kept.clone();
        if offset > 0 {
            pairs.push(("cursor", &cursor));
        }
        format!("/search?{}", query_string(pairs))
    };
    // Nothing found: another spelling of the words, if one finds what the reader may see.
    let respelling = if results.total == 0 && !words.trim().is_empty() {
        ctx.state.search.respelling(ctx.reader(), &words).await?
    } else {
        None
    };
    let respelt = respelling.as_deref().map(|respelling| {
        let pairs = kept
            .iter()
            .filter(|pair| **pair != ("limit", PAGE_SIZE))
            .map(|(name, value)| (*name, if *name == "q" { respelling } else { *value }));
        format!("/search?{}", query_string(pairs))
    });
    let previous = (offset > 0).then(|| at(offset.saturating_sub(limit)));
    let next = (offset + limit < results.total.min(MAX_SEARCH_DEPTH)).then(|| at(offset + limit));
    let selected = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let sort = selected("sort").first().copied().unwrap_or("relevance");
    let api_query = query_string(kept.iter().copied().filter(|(name, _)| *name != "limit"));
    // OGC API - Records takes the words, the box and the period.
    let ogc_query = query_string(
        kept.iter()
            .copied()
            .filter(|(name, _)| ["q", "bbox", "datetime"].contains(name)),
    );
    let extents: Vec<Extent> = datasets
        .iter()
        .filter_map(|dataset| {
            let bbox = dataset.metadata.spatial.as_ref()?.bbox?;
            Some(Extent {
                bbox,
                title: dataset.metadata.title.clone(),
                href: Some(format!("/datasets/{}", dataset.metadata.slug.as_str())),
            })
        })
        .collect();
    let title = if words.is_empty() {
        text.text("search-title")
    } else {
        text.text_with("search-title-for", &[("text", Arg::Text(&words))])
    };
    let body = html! {
        form class="search" method="get" action="/search" role="search" {
            (search_form_box(&words))
            div class="search-layout" {
                aside class="facets" aria-labelledby="facets-heading" {
                    h2 id="facets-heading" { (text.text("facets-heading")) }
                    div class="area" {
                        label for="datetime" { (text.text("search-period")) }
                        input id="datetime" name="datetime" type="text" value=(selected("datetime").first().copied().unwrap_or("")) placeholder="2019-01-01/2021-12-31" aria-describedby="datetime-hint";
                        p id="datetime-hint" class="hint" { (text.text("search-period-hint")) }
                    }
                    div class="area" {
                        label for="bbox" { (text.text("search-area")) }
                        input id="bbox" name="bbox" type="text" value=(selected("bbox").first().copied().unwrap_or("")) placeholder="-10,35,30,60" aria-describedby="bbox-hint";
                        p id="bbox-hint" class="hint" { (text.text("search-area-hint")) }
                    }
                    @for facet in FACETS {
                        (facet_box(&results, facet, &selected(facet.name()), &names))
                    }
                    button type="submit" class="secondary" { (text.text("facets-apply")) }
                    @if kept.iter().any(|(name, _)| FACETS.iter().any(|f| f.name() == *name)) {
                        p { a href={ "/search?" (query_string(kept.iter().copied().filter(|(n, _)| *n == "q"))) } { (text.text("clear-filters")) } }
                    }
                }
                section class="results" aria-labelledby="results-heading" {
                    div class="results-head" {
                        h2 id="results-heading" class="total" { (total_in_words(&results)) }
                        label for="sort" { (text.text("sort-label")) }
                        select id="sort" name="sort" {
                            @for (value, id) in [("relevance", "sort-relevance"), ("modified", "sort-modified"), ("title", "sort-title")] {
                                option value=(value) selected[sort == value] { (text.text(id)) }
                            }
                        }
                        button type="submit" class="secondary" { (text.text("sort-apply")) }
                    }
                    @if !results.ignored.is_empty() {
                        p class="notice ignored" role="status" { (text.text_with("search-ignored", &[("words", Arg::Text(&results.ignored.join(" ")))])) }
                    }
                    (map(&text.text("search-map-label"), &extents, true, ctx.state.settings.basemap_url.as_deref()))
                    (histogram(&results, &kept))
                    @if results.hits.is_empty() {
                        @if let (Some(respelling), Some(href)) = (&respelling, &respelt) {
                            p class="respelling" { (text.text("did-you-mean")) " " a href=(href) { strong { (respelling) } } "?" }
                        }
                        p { (text.text("no-results-hint")) }
                    } @else {
                        p class="position" { (text.text_with("page-position", &[("first", Arg::Number(offset as u64 + 1)), ("last", Arg::Number((offset + results.hits.len()) as u64))])) }
                        (hit_list(ctx, &results.hits, &datasets, &names))
                    }
                    nav class="pages" aria-label="Pages" {
                        @if let Some(previous) = &previous { a rel="prev" href=(previous) { (text.text("page-previous")) } }
                        @if let Some(next) = &next { a rel="next" href=(next) { (text.text("page-next")) } }
                    }
                    ul class="alternates" {
                        li { a href={ "/search.atom?" (api_query) } { (text.text("search-as-atom")) } }
                        li { a href={ "/api/v1/search?" (api_query) } { (text.text("search-as-json")) } }
                        li { a href={ "/ogcapi/collections/datasets/items?" (ogc_query) } { (text.text("search-as-ogc")) } }
                        li { a href="/api/v1/catalog" { (text.text("search-as-dcat")) } }
                    }
                }
            }
        }
    };
    let labels = datasets
        .iter()
        .map(|dataset| dataset.metadata.security_label.clone())
        .collect();
    let mut page = Page::new(title, body).with_labels(labels);
    page.map = true;
    page.head = Some(html! {
        link rel="alternate" type="application/atom+xml" href={ "/search.atom?" (api_query) };
    });
    Ok(page)
}

/// `GET /search.atom`: the same search as an Atom feed (RFC 4287), newest change first unless the
/// address sorts otherwise, to watch it in a feed reader. Each entry's title starts with its
/// marking; the reader is the page's (a session or a token).
pub async fn feed(ctx: Ctx, RawQuery(raw): RawQuery) -> Response {
    let mut raw = raw.unwrap_or_default();
    if !raw.split('&').any(|pair| pair.starts_with("sort=")) {
        raw.push_str(if raw.is_empty() {
            "sort=modified"
        } else {
            "&sort=modified"
        });
    }
    let found = match run_search(&ctx, &raw, &[], FEED_SIZE).await {
        Ok(found) => found,
        Err(error) => return super::errors::page_of(&ctx, &error),
    };
    let base = &ctx.state.services.site.base;
    let query = query_string(
        found
            .pairs
            .iter()
            .filter(|(name, _)| name != "cursor" && name != "limit")
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    let policy = ctx.state.policy();
    let updated = found
        .datasets
        .iter()
        .map(|dataset| dataset.updated_at)
        .max()
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let title = if found.words.is_empty() {
        messages().text("search-title")
    } else {
        messages().text_with("search-title-for", &[("text", Arg::Text(&found.words))])
    };
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    let page = format!("{base}/search?{query}");
    xml.push_str(&format!(
        "<id>{}</id>\n<title>{} – {}</title>\n<updated>{}</updated>\n<link rel=\"self\" href=\"{}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        xml_escape(&page),
        xml_escape(&title),
        xml_escape(&messages().text("site-name")),
        rfc3339(updated),
        xml_escape(&format!("{base}/search.atom?{query}")),
        xml_escape(&page),
    ));
    let by_id: HashMap<Uuid, &Dataset> = found.datasets.iter().map(|d| (d.id, d)).collect();
    for hit in &found.results.hits {
        let Some(dataset) = by_id.get(&hit.id) else {
            continue;
        };
        let metadata = &dataset.metadata;
        let marking = fathom_model::Marking::of_label(policy, &metadata.security_label).line();
        let organisation = found
            .names
            .shown(Facet::Organisation, metadata.organisation.as_str());
        xml.push_str(&format!(
            "<entry>\n<id>urn:uuid:{}</id>\n<title>({}) {}</title>\n<updated>{}</updated>\n<link href=\"{}\"/>\n<author><name>{}</name></author>\n<category term=\"{}\" label=\"{}\"/>\n<summary>{}</summary>\n</entry>\n",
            dataset.id,
            xml_escape(&marking),
            xml_escape(&metadata.title),
            rfc3339(dataset.updated_at),
            xml_escape(&format!("{base}/datasets/{}", metadata.slug.as_str())),
            xml_escape(organisation),
            xml_escape(&metadata.security_label.classification),
            xml_escape(&marking),
            xml_escape(&snippet(&markdown::to_text(&metadata.description))),
        ));
    }
    xml.push_str("</feed>\n");
    let mut response = xml.into_response();
    for_this_reader(&mut response, "application/atom+xml; charset=utf-8");
    response
}

/// Text for XML: its five special characters escaped.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The search box with its button, filled with the words searched.
pub fn search_form_box(words: &str) -> Markup {
    let text = messages();
    html! {
        div class="search-box" {
            label for="q" class="visually-hidden" { (text.text("search-label")) }
            input id="q" type="search" name="q" value=(words) placeholder=(text.text("search-placeholder")) autocomplete="off" data-suggestions-label=(text.text("suggestions-label"));
            button type="submit" { (text.text("search-button")) }
        }
    }
}

/// The results, each with its portion marking, title, organisation and highlights. A hit whose
/// record the reader may no longer see (or that is gone) is left out.
pub fn hit_list(ctx: &Ctx, hits: &[Hit], datasets: &[Dataset], names: &Names) -> Markup {
    let text = messages();
    let by_id: HashMap<Uuid, &Dataset> = datasets.iter().map(|d| (d.id, d)).collect();
    html! {
        ol class="hits" {
            @for hit in hits {
                @if let Some(dataset) = by_id.get(&hit.id) {
                    li class="hit" {
                        h3 {
                            (portion(ctx, &dataset.metadata.security_label))
                            " "
                            a href={ "/datasets/" (dataset.metadata.slug.as_str()) } {
                                @if let Some(title) = hit.highlights.get("title") { (PreEscaped(title)) } @else { (dataset.metadata.title) }
                            }
                        }
                        p class="meta" { (text.text_with("published-by", &[("organisation", Arg::Text(names.shown(Facet::Organisation, dataset.metadata.organisation.as_str())))])) }
                        @if let Some(description) = hit.highlights.get("description") {
                            // The fragment is of the Markdown as written: its emphasis marks go.
                            p class="snippet" { (PreEscaped(description.replace("**", "").replace("__", ""))) }
                        } @else if !dataset.metadata.description.is_empty() {
                            p class="snippet" { (snippet(&markdown::to_text(&dataset.metadata.description))) }
                        }
                    }
                }
            }
        }
    }
}

/// The start of a description, cut at a word.
fn snippet(description: &str) -> String {
    const LENGTH: usize = 240;
    if description.chars().count() <= LENGTH {
        return description.to_owned();
    }
    let cut: String = description.chars().take(LENGTH).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(kept, _)| kept);
    format!("{cut}…")
}

/// A facet as a group of checkboxes with counts; values already chosen stay listed and checked.
fn facet_box(results: &SearchResults, facet: Facet, selected: &[&str], names: &Names) -> Markup {
    let text = messages();
    let counts = results
        .facets
        .get(facet.name())
        .cloned()
        .unwrap_or_default();
    let mut values: Vec<(String, Option<u64>)> = counts
        .iter()
        .map(|count| (count.value.clone(), Some(count.count)))
        .collect();
    for chosen in selected {
        if !values.iter().any(|(value, _)| value == chosen) {
            values.push(((*chosen).to_owned(), None));
        }
    }
    let name = facet.name();
    html! {
        @if !values.is_empty() {
            fieldset class="facet" {
                legend { (text.text(&format!("facet-{name}"))) }
                @for (n, (value, count)) in values.iter().enumerate() {
                    div class="choice" {
                        input type="checkbox" id={ (name) "-" (n) } name=(name) value=(value) checked[selected.contains(&value.as_str())];
                        label for={ (name) "-" (n) } {
                            (names.shown(facet, value))
                            @if let Some(count) = count { " " span class="count" { (grouped(*count)) } }
                        }
                    }
                }
            }
        }
    }
}

/// The matches counted by the years their temporal extents cover, as bars: each a link to the same
/// search within that year.
fn histogram(results: &SearchResults, kept: &[(&str, &str)]) -> Markup {
    const WIDTH: usize = 600;
    const HEIGHT: usize = 60;
    let text = messages();
    let counts: Vec<(i32, u64)> = results
        .facets
        .get(Facet::Year.name())
        .into_iter()
        .flatten()
        .filter_map(|count| Some((count.value.parse().ok()?, count.count)))
        .collect();
    let (Some(first), Some(last)) = (counts.first(), counts.last()) else {
        return html! {};
    };
    let (first, last) = (first.0, last.0);
    let years = (last - first + 1) as usize;
    let highest = counts
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(1)
        .max(1);
    let bar = WIDTH / years.max(1);
    let within = |year: i32| {
        let period = format!("{year}-01-01/{year}-12-31");
        let pairs = kept
            .iter()
            .copied()
            .filter(|(name, _)| *name != "datetime")
            .chain([("datetime", period.as_str())]);
        format!("/search?{}", query_string(pairs))
    };
    // The search without its period, for the script to add the range a reader drags across.
    let without_period = format!(
        "/search?{}",
        query_string(kept.iter().copied().filter(|(name, _)| *name != "datetime"))
    );
    html! {
        figure class="histogram" data-search=(without_period) {
            svg role="group" aria-label=(text.text("histogram-label")) viewBox={ "0 0 " (WIDTH) " " (HEIGHT + 14) } {
                @for (year, count) in &counts {
                    @let height = ((*count as f64 / highest as f64) * HEIGHT as f64).max(2.0) as usize;
                    @let x = (*year - first) as usize * bar;
                    @let label = text.text_with("histogram-bar", &[("year", Arg::Number(*year as u64)), ("count", Arg::Number(*count)), ("shown", Arg::Text(&grouped(*count)))]);
                    a href=(within(*year)) aria-label=(label) data-year=(year) {
                        rect class="bar" x=(x) y=(HEIGHT - height) width=(bar.saturating_sub(1).max(1)) height=(height) { title { (label) } }
                    }
                }
                text class="axis" x="0" y=(HEIGHT + 12) { (first) }
                text class="axis" x=(WIDTH) y=(HEIGHT + 12) text-anchor="end" { (last) }
            }
            figcaption class="hint" { (text.text("histogram-hint")) }
        }
    }
}

/// The most datasets `/search/suggest` names.
const SUGGESTED: usize = 6;

#[derive(Debug, serde::Deserialize)]
pub struct Typed {
    q: Option<String>,
}

/// `GET /search/suggest?q=…`: the titles and addresses of the datasets the reader may see that the
/// words typed so far find best (the last word completed as a prefix), as JSON, for the search
/// box's list of suggestions.
pub async fn suggest(ctx: Ctx, Query(typed): Query<Typed>) -> Response {
    let words = typed.q.unwrap_or_default();
    let found = if words.trim().chars().count() < 2 {
        Ok(Vec::new())
    } else {
        let request = SearchRequest {
            text: Some(words),
            limit: SUGGESTED,
            ..SearchRequest::default()
        };
        suggestions(&ctx, request).await
    };
    match found {
        Ok(found) => {
            let mut response = axum::Json(found).into_response();
            for_this_reader(&mut response, "application/json");
            response
        }
        Err(error) => super::errors::page_of(&ctx, &error),
    }
}

#[derive(Debug, serde::Serialize)]
struct Suggested {
    title: String,
    href: String,
}

async fn suggestions(ctx: &Ctx, request: SearchRequest) -> Result<Vec<Suggested>, ServiceError> {
    let results = ctx.state.search.search(ctx.reader(), request).await?;
    let datasets = datasets_of(ctx, &results.hits).await?;
    let by_id: HashMap<Uuid, &Dataset> = datasets.iter().map(|d| (d.id, d)).collect();
    Ok(results
        .hits
        .iter()
        .filter_map(|hit| by_id.get(&hit.id))
        .map(|dataset| Suggested {
            title: dataset.metadata.title.clone(),
            href: format!("/datasets/{}", dataset.metadata.slug.as_str()),
        })
        .collect())
}

/// "One dataset matches", "About 12,000 datasets match".
fn total_in_words(results: &SearchResults) -> String {
    let text = messages();
    let count = results.total as u64;
    let id = if results.total_exact {
        "total-exact"
    } else {
        "total-approximate"
    };
    text.text_with(
        id,
        &[
            ("count", Arg::Number(count)),
            ("shown", Arg::Text(&grouped(count))),
        ],
    )
}
