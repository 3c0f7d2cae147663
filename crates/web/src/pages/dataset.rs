//! `/datasets/{slug}`: a dataset for people: what it is, where and when, how to get it, who made it,
//! how to cite it, and its metadata in the catalogue's standard formats.

use axum::extract::Path;
use axum::response::Response;
use fathom_model::{Dataset, Slug};
use fathom_service::{RecordKey, ServiceError};
use maud::{Markup, PreEscaped, html};
use time::OffsetDateTime;

use super::search_for;
use crate::i18n::{Arg, messages};
use crate::layout::portion;
use crate::{Ctx, Page, markdown};

/// The formats offered for export, by their API names, with what to call them.
const EXPORTS: &[(&str, &str)] = &[
    ("ttl", "DCAT-AP (Turtle)"),
    ("jsonld", "DCAT-AP (JSON-LD)"),
    ("iso19139", "ISO 19139"),
    ("schemaorg", "schema.org (JSON-LD)"),
    ("dcterms", "DCMI Metadata Terms (XML)"),
];

pub async fn dataset(ctx: Ctx, Path(slug): Path<String>) -> Response {
    let page = dataset_page(&ctx, &slug).await;
    ctx.respond(page)
}

async fn dataset_page(ctx: &Ctx, key: &str) -> Result<Page, ServiceError> {
    let text = messages();
    let catalogue = &ctx.state.services.catalogue;
    let dataset = catalogue
        .dataset(ctx.reader(), &RecordKey::parse(key))
        .await?;
    let organisation = catalogue
        .organisation(&RecordKey::parse(dataset.metadata.organisation.as_str()))
        .await
        .map(|organisation| organisation.details.name)
        .unwrap_or_else(|_| dataset.metadata.organisation.as_str().to_owned());
    let metadata = &dataset.metadata;
    let slug = metadata.slug.as_str();
    let body = html! {
        article class="dataset" {
            header {
                p { (portion(ctx, &metadata.security_label)) }
                h1 { (metadata.title) }
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
                    (extent(&dataset))
                    (distributions(&dataset))
                    (citation(&dataset, &organisation))
                }
                aside class="dataset-side" {
                    (about(&dataset, &organisation))
                    (context(&dataset))
                    section {
                        h2 { (text.text("dataset-export")) }
                        ul class="exports" {
                            @for (format, name) in EXPORTS {
                                li { a href={ "/api/v1/datasets/" (slug) "?format=" (format) } { (name) } }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = metadata.title.clone();
    Ok(Page::new(title, body).with_labels(vec![metadata.security_label.clone()]))
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

fn extent(dataset: &Dataset) -> Markup {
    let text = messages();
    let metadata = &dataset.metadata;
    let bbox = metadata.spatial.as_ref().and_then(|s| s.bbox.as_ref());
    let open = text.text("dataset-open");
    html! {
        @if metadata.temporal.is_some() || bbox.is_some() {
            section {
                h2 { (text.text("dataset-extent")) }
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
                dd { a href=(search_for("organisation", metadata.organisation.as_str())) { (organisation) } }
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

/// Links to the searches of the domain model's entities the dataset names.
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
                            @for slug in slugs { dd { a href=(search_for(parameter, slug.as_str())) { (slug.as_str()) } } }
                        }
                    }
                }
            }
        }
    }
}

/// A citation in the DataCite style: Creators (Year). Title. Version. Publisher. Identifier.
fn citation(dataset: &Dataset, organisation: &str) -> Markup {
    let text = messages();
    let metadata = &dataset.metadata;
    let creators: Vec<&str> = metadata.creators.iter().map(|c| c.name.as_str()).collect();
    let year = metadata
        .issued
        .as_deref()
        .and_then(|issued| issued.get(..4))
        .map_or_else(|| dataset.created_at.year().to_string(), str::to_owned);
    let identifier = metadata
        .identifiers
        .iter()
        .find_map(|id| doi_url(id))
        .or_else(|| {
            metadata
                .landing_page
                .as_ref()
                .map(|page| page.as_str().to_owned())
        });
    let mut parts = vec![format!(
        "{} ({year}). {}.",
        if creators.is_empty() {
            organisation.to_owned()
        } else {
            creators.join("; ")
        },
        metadata.title
    )];
    if let Some(version) = &metadata.version {
        parts.push(format!("Version {version}."));
    }
    parts.push(format!("{organisation}."));
    if let Some(identifier) = identifier {
        parts.push(identifier);
    }
    html! {
        section {
            h2 { (text.text("dataset-cite")) }
            p class="citation" { (parts.join(" ")) }
        }
    }
}

/// The resolver address of a DOI written `10.…`, `doi:10.…` or as its address.
fn doi_url(identifier: &str) -> Option<String> {
    let bare = identifier
        .strip_prefix("https://doi.org/")
        .or_else(|| identifier.strip_prefix("doi:"))
        .unwrap_or(identifier);
    bare.starts_with("10.")
        .then(|| format!("https://doi.org/{bare}"))
}

/// `2024-09-01`.
fn date(at: OffsetDateTime) -> String {
    let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
    format!("{year:04}-{month:02}-{day:02}")
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
