//! `/datasets/{slug}`: a dataset for people: what it is, where and when, how to get it, who made it,
//! how to cite it, and its metadata in the catalogue's standard formats.

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fathom_model::{Dataset, Organisation, Slug};
use fathom_service::{Format, RecordKey, ServiceError};
use maud::{Markup, PreEscaped, html};

use super::{date, search_for};
use crate::citation::{Citation, bare_doi};
use crate::i18n::{Arg, messages};
use crate::layout::portion;
use crate::map::{Extent, map};
use crate::{Ctx, Page, markdown};

/// The formats offered for export, by their API names, with what to call them.
const EXPORTS: &[(&str, &str)] = &[
    ("ttl", "DCAT-AP (Turtle)"),
    ("jsonld", "DCAT-AP (JSON-LD)"),
    ("iso19139", "ISO 19139"),
    ("schemaorg", "schema.org (JSON-LD)"),
    ("dcterms", "DCMI Metadata Terms (XML)"),
];

/// `?revision=N`: the dataset as it was at revision N.
#[derive(Debug, serde::Deserialize)]
pub struct AsOf {
    revision: Option<i64>,
}

pub async fn dataset(ctx: Ctx, Path(slug): Path<String>, Query(as_of): Query<AsOf>) -> Response {
    let page = dataset_page(&ctx, &slug, as_of.revision).await;
    ctx.respond(page)
}

async fn dataset_page(ctx: &Ctx, key: &str, revision: Option<i64>) -> Result<Page, ServiceError> {
    let text = messages();
    let (current, publisher) = dataset_and_publisher(ctx, key).await?;
    // An older revision is shown as it was; its history is the current one's.
    let (dataset, notice, history, history_labels) = match revision {
        Some(number) if number != current.revision => {
            let old = ctx
                .state
                .services
                .catalogue
                .dataset_revision(ctx.reader(), &RecordKey::Id(current.id), number)
                .await?;
            let snapshot = old.snapshot.ok_or(ServiceError::NotFound("revision"))?;
            let dataset: Dataset = serde_json::from_value(snapshot).map_err(|e| {
                ServiceError::Fault(format!("a stored revision cannot be read: {e}"))
            })?;
            let notice = html! {
                div class="notice" role="status" {
                    (text.text_with("dataset-as-it-was", &[("revision", Arg::Number(number.unsigned_abs())), ("at", Arg::Text(&date(old.recorded_at)))]))
                    " " a href={ "/datasets/" (current.metadata.slug.as_str()) } { (text.text("dataset-read-current")) }
                }
            };
            (dataset, Some(notice), None, Vec::new())
        }
        _ => {
            let (history, labels) = super::history::sections(ctx, &current).await?;
            (current, None, Some(history), labels)
        }
    };
    let organisation = publisher.as_ref().map_or_else(
        || dataset.metadata.organisation.as_str().to_owned(),
        |publisher| publisher.details.name.clone(),
    );
    let metadata = &dataset.metadata;
    let slug = metadata.slug.as_str();
    let citation = Citation::of(
        &dataset,
        &organisation,
        &format!("{}/datasets/{slug}", ctx.state.services.site.base),
    );
    // schema.org's `Dataset`, for the search engines of datasets: data in a script block, which a
    // browser does not run; `<` escaped so that nothing in it can close the block.
    let schema_org = Format::named("schemaorg")
        .map(|format| {
            ctx.state
                .services
                .write_dataset(&dataset, publisher.as_ref(), format)
        })
        .transpose()?
        .map(|json| String::from_utf8_lossy(&json).replace('<', "\\u003c"));
    let body = html! {
        article class="dataset" {
            header {
                p { (portion(ctx, &metadata.security_label)) }
                h1 { (metadata.title) }
                @if let Some(notice) = &notice { (notice) }
                p class="meta" {
                    (text.text_with("published-by", &[("organisation", Arg::Text(&organisation))]))
                    " · "
                    (text.text_with("dataset-revision", &[("revision", Arg::Number(dataset.revision.unsigned_abs())), ("at", Arg::Text(&date(dataset.updated_at)))]))
                }
            }
            div class="dataset-layout" {
                div class="dataset-main" {
                    section {
                        h2 { (text.text("dataset-description")) }
                        @if metadata.description.trim().is_empty() {
                            p { (text.text("dataset-no-description")) }
                        } @else {
                            div class="markdown" { (PreEscaped(markdown::to_html(&metadata.description))) }
                        }
                    }
                    (tags("dataset-keywords", "keyword", &metadata.keywords.iter().map(String::as_str).collect::<Vec<_>>()))
                    (tags("dataset-themes", "theme", &metadata.themes.iter().map(|t| t.as_str()).collect::<Vec<_>>()))
                    (extent(ctx, &dataset))
                    (distributions(&dataset))
                    (cite(&citation, slug))
                    @if let Some(history) = &history { (history) }
                }
                aside class="dataset-side" {
                    (about(&dataset, &organisation))
                    (context(&dataset))
                    section {
                        h2 { (text.text("dataset-export")) }
                        ul class="exports" {
                            @for (format, name) in EXPORTS {
                                li { a href={ "/datasets/" (slug) "/export/" (format) } { (name) } }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = metadata.title.clone();
    let mut labels = history_labels;
    labels.push(metadata.security_label.clone());
    let mut page = Page::new(title, body).with_labels(labels);
    page.map = metadata.spatial.as_ref().is_some_and(|s| s.bbox.is_some());
    page.head = schema_org.map(|json| {
        html! { script type="application/ld+json" { (PreEscaped(json)) } }
    });
    Ok(page)
}

/// A dataset the reader may see, and its publisher when it is known.
async fn dataset_and_publisher(
    ctx: &Ctx,
    key: &str,
) -> Result<(Dataset, Option<Organisation>), ServiceError> {
    let catalogue = &ctx.state.services.catalogue;
    let dataset = catalogue
        .dataset(ctx.reader(), &RecordKey::parse(key))
        .await?;
    let organisation = RecordKey::Slug(dataset.metadata.organisation.to_string());
    let publisher = match catalogue.organisation(&organisation).await {
        Ok(publisher) => Some(publisher),
        Err(ServiceError::NotFound(_)) => None,
        Err(error) => return Err(error),
    };
    Ok((dataset, publisher))
}

/// `GET /datasets/{slug}/export/{format}`: the dataset's metadata in a standard's format, as the
/// reader may see it (signed in on the page, where the API would want a token).
pub async fn export(ctx: Ctx, Path((key, name)): Path<(String, String)>) -> Response {
    let Some(format) =
        Format::named(&name).filter(|format| EXPORTS.iter().any(|(n, _)| *n == format.name))
    else {
        return super::errors::page_of(&ctx, &ServiceError::NotFound("format"));
    };
    let written = ctx
        .state
        .services
        .dataset_written(ctx.reader(), &RecordKey::parse(&key), format)
        .await;
    match written {
        Ok(body) => download(
            format.media_type,
            &format!("{key}.{}", format.extension),
            body,
        ),
        Err(error) => super::errors::page_of(&ctx, &error),
    }
}

/// `GET /datasets/{slug}/citation.{bib,ris}`: the citation for a reference manager.
pub async fn citation(ctx: Ctx, Path((key, file)): Path<(String, String)>) -> Response {
    let (dataset, publisher) = match dataset_and_publisher(&ctx, &key).await {
        Ok(found) => found,
        Err(error) => return super::errors::page_of(&ctx, &error),
    };
    let organisation = publisher.map_or_else(
        || dataset.metadata.organisation.as_str().to_owned(),
        |publisher| publisher.details.name,
    );
    let slug = dataset.metadata.slug.as_str();
    let page = format!("{}/datasets/{slug}", ctx.state.services.site.base);
    let citation = Citation::of(&dataset, &organisation, &page);
    match file.as_str() {
        "citation.bib" => download(
            "application/x-bibtex",
            &format!("{slug}.bib"),
            citation.bibtex(slug).into_bytes(),
        ),
        "citation.ris" => download(
            "application/x-research-info-systems",
            &format!("{slug}.ris"),
            citation.ris().into_bytes(),
        ),
        _ => super::errors::page_of(&ctx, &ServiceError::NotFound("citation")),
    }
}

/// A file to save, named `file_name`.
fn download(media_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(disposition) = HeaderValue::try_from(format!("attachment; filename=\"{file_name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// Values that each link to the search for them.
fn tags(heading: &str, parameter: &str, values: &[&str]) -> Markup {
    let text = messages();
    html! {
        @if !values.is_empty() {
            section {
                h2 { (text.text(heading)) }
                ul class="tags" {
                    @for value in values { li { a href=(search_for(parameter, value)) { (value) } } }
                }
            }
        }
    }
}

fn extent(ctx: &Ctx, dataset: &Dataset) -> Markup {
    let text = messages();
    let metadata = &dataset.metadata;
    let bbox = metadata.spatial.as_ref().and_then(|s| s.bbox.as_ref());
    let open = text.text("dataset-open");
    html! {
        @if metadata.temporal.is_some() || bbox.is_some() {
            section {
                h2 { (text.text("dataset-extent")) }
                @if let Some(bbox) = bbox {
                    (map(&text.text("dataset-map-label"), &[Extent { bbox: *bbox, title: metadata.title.clone(), href: None }], false, ctx.state.settings.basemap_url.as_deref()))
                }
                dl {
                    @if let Some(period) = &metadata.temporal {
                        dt { (text.text("dataset-period")) }
                        dd { (text.text_with("dataset-period-value", &[
                            ("start", Arg::Text(&period.start.map_or_else(|| open.clone(), date))),
                            ("end", Arg::Text(&period.end.map_or_else(|| open.clone(), date))),
                        ])) }
                    }
                    @if let Some(bbox) = bbox {
                        dt { (text.text("dataset-bbox")) }
                        dd { (text.text_with("dataset-bbox-value", &[
                            ("west", Arg::Text(&bbox.west().to_string())),
                            ("south", Arg::Text(&bbox.south().to_string())),
                            ("east", Arg::Text(&bbox.east().to_string())),
                            ("north", Arg::Text(&bbox.north().to_string())),
                        ])) }
                    }
                }
            }
        }
    }
}

fn distributions(dataset: &Dataset) -> Markup {
    let text = messages();
    let distributions = &dataset.metadata.distributions;
    html! {
        section {
            h2 { (text.text("dataset-distributions")) }
            @if distributions.is_empty() {
                p { (text.text("dataset-no-distributions")) }
            } @else {
                ul class="distributions" {
                    @for distribution in distributions {
                        li {
                            h3 { @if distribution.title.is_empty() { (text.text("distribution-untitled")) } @else { (distribution.title) } }
                            @if !distribution.description.is_empty() { p { (distribution.description) } }
                            dl {
                                @if let Some(format) = distribution.format.as_ref().or(distribution.media_type.as_ref()) {
                                    dt { (text.text("distribution-format")) } dd { (format) }
                                }
                                @if let Some(size) = distribution.byte_size {
                                    dt { (text.text("distribution-size")) } dd { (human_size(size)) }
                                }
                                @if let Some(checksum) = &distribution.checksum {
                                    dt { (text.text("distribution-checksum")) }
                                    dd { code { (format!("{:?}", checksum.algorithm).to_uppercase()) ": " (checksum.value) } }
                                }
                            }
                            p class="links" {
                                a href=(distribution.access_url.as_str()) { (text.text("distribution-access")) }
                                @if let Some(download) = &distribution.download_url {
                                    " " a href=(download.as_str()) download { (text.text("distribution-download")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn about(dataset: &Dataset, organisation: &str) -> Markup {
    let text = messages();
    let metadata = &dataset.metadata;
    html! {
        section {
            h2 { (text.text("dataset-about")) }
            dl {
                dt { (text.text("dataset-organisation")) }
                dd { a href={ "/organisations/" (metadata.organisation.as_str()) } { (organisation) } }
                dt { (text.text("dataset-state")) } dd { (dataset.state.as_str()) }
                @if let Some(licence) = &metadata.license { dt { (text.text("dataset-licence")) } dd { (licence) } }
                @if let Some(version) = &metadata.version { dt { (text.text("dataset-version")) } dd { (version) } }
                @if let Some(issued) = &metadata.issued { dt { (text.text("dataset-issued")) } dd { (issued) } }
                @if let Some(modified) = &metadata.modified { dt { (text.text("dataset-modified")) } dd { (modified) } }
                @if !metadata.identifiers.is_empty() {
                    dt { (text.text("dataset-identifiers")) }
                    @for identifier in &metadata.identifiers {
                        dd { @if let Some(url) = doi_url(identifier) { a href=(url) { (identifier) } } @else { (identifier) } }
                    }
                }
                @if let Some(page) = &metadata.landing_page {
                    dt { (text.text("dataset-landing-page")) } dd { a href=(page.as_str()) { (page.as_str()) } }
                }
                @if !metadata.creators.is_empty() {
                    dt { (text.text("dataset-creators")) }
                    @for creator in &metadata.creators { dd { (creator.name) } }
                }
                @if !metadata.contact_points.is_empty() {
                    dt { (text.text("dataset-contacts")) }
                    @for contact in &metadata.contact_points {
                        dd {
                            @if let Some(email) = &contact.email { a href={ "mailto:" (email) } { (contact.name) } } @else { (contact.name) }
                            @if let Some(role) = &contact.role { " (" (role) ")" }
                        }
                    }
                }
            }
        }
    }
}

/// The page of the entity a dataset names by this parameter (`platform`), or its search.
fn entity_link(parameter: &str, slug: &str) -> String {
    match fathom_model::EntityKind::parse(parameter) {
        Some(kind) => super::model::entity_path(kind, slug),
        None => search_for(parameter, slug),
    }
}

/// Links to the pages of the domain model's entities the dataset names.
fn context(dataset: &Dataset) -> Markup {
    let text = messages();
    let metadata = &dataset.metadata;
    let single = |slug: &Option<Slug>| slug.iter().cloned().collect::<Vec<_>>();
    let rows: [(&str, &str, Vec<Slug>); 6] = [
        ("dataset-domain", "domain", single(&metadata.domain)),
        ("dataset-project", "project", single(&metadata.project)),
        ("dataset-campaign", "campaign", single(&metadata.campaign)),
        ("dataset-platforms", "platform", metadata.platforms.clone()),
        (
            "dataset-instruments",
            "instrument",
            metadata.instruments.clone(),
        ),
        (
            "dataset-observed-properties",
            "observed_property",
            metadata.observed_properties.clone(),
        ),
    ];
    html! {
        @if rows.iter().any(|(_, _, slugs)| !slugs.is_empty()) {
            section {
                h2 { (text.text("dataset-context")) }
                dl {
                    @for (heading, parameter, slugs) in &rows {
                        @if !slugs.is_empty() {
                            dt { (text.text(heading)) }
                            @for slug in slugs { dd { a href=(entity_link(parameter, slug.as_str())) { (slug.as_str()) } } }
                        }
                    }
                }
            }
        }
    }
}

/// The citation, with its downloads.
fn cite(citation: &Citation, slug: &str) -> Markup {
    let text = messages();
    html! {
        section {
            h2 { (text.text("dataset-cite")) }
            p class="citation" { (citation.line()) }
            p class="downloads" {
                a href={ "/datasets/" (slug) "/citation.bib" } { (text.text("dataset-cite-bibtex")) }
                " "
                a href={ "/datasets/" (slug) "/citation.ris" } { (text.text("dataset-cite-ris")) }
            }
        }
    }
}

/// The resolver address of a DOI written `10.…`, `doi:10.…` or as its address.
fn doi_url(identifier: &str) -> Option<String> {
    bare_doi(identifier).map(|doi| format!("https://doi.org/{doi}"))
}

/// A size in bytes for people: `1.5 MB` (decimal units, as file managers show them).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dois_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1_500_000), "1.5 MB");
        assert_eq!(human_size(2_000_000_000_000), "2.0 TB");
        assert_eq!(
            doi_url("10.5281/zenodo.1").as_deref(),
            Some("https://doi.org/10.5281/zenodo.1")
        );
        assert_eq!(
            doi_url("doi:10.1/x").as_deref(),
            Some("https://doi.org/10.1/x")
        );
        assert_eq!(doi_url("hdl:1/2"), None);
    }
}
