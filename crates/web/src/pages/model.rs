//! The domain model for people: `/browse` lists organisations and every kind of entity (data
//! domains, projects, campaigns, platforms, instruments, observed properties); each has a page with
//! what it is and the datasets of it the reader may see.

use axum::extract::Path;
use axum::response::Response;
use fathom_model::{Entity, EntityKind, Facts, Mounting, SecurityLabel, Slug, TemporalExtent};
use fathom_service::{Direction, Facet, PageRequest, RecordKey, SearchRequest, ServiceError, Sort};
use maud::{Markup, PreEscaped, html};

use super::{date, grouped, organisation_names, search_for};
use crate::i18n::{Arg, messages};
use crate::map::{Extent, map};
use crate::pages::search::hit_list;
use crate::{Ctx, Page, markdown};

/// The most entities of one kind listed on `/browse`.
const LISTED: u32 = 500;
/// The datasets shown on an entity's page (the search has them all).
const DATASETS_SHOWN: usize = 10;

/// The message naming a kind, in the plural.
fn kind_heading(kind: EntityKind) -> String {
    format!("kind-{}", kind.collection())
}

/// The page of an entity.
pub fn entity_path(kind: EntityKind, slug: &str) -> String {
    format!("/{}/{slug}", kind.collection())
}

/// `GET /browse`: organisations and every entity, by kind.
pub async fn browse(ctx: Ctx) -> Response {
    let page = browse_page(&ctx).await;
    ctx.respond(page)
}

async fn browse_page(ctx: &Ctx) -> Result<Page, ServiceError> {
    let text = messages();
    let catalogue = &ctx.state.services.catalogue;
    let mut organisations: Vec<(String, String)> =
        organisation_names(ctx).await?.into_iter().collect();
    organisations.sort_by(|a, b| a.1.cmp(&b.1));
    let mut kinds = Vec::new();
    for kind in EntityKind::ALL {
        let mut entities = catalogue
            .entities(
                kind,
                PageRequest {
                    after: None,
                    limit: LISTED,
                },
            )
            .await?;
        entities.sort_by(|a, b| a.details.name.cmp(&b.details.name));
        kinds.push((kind, entities));
    }
    let vocabularies = catalogue.vocabularies().await?;
    let body = html! {
        h1 { (text.text("browse-title")) }
        p class="lead" { (text.text("browse-lead")) }
        div class="browse-grid" {
            section {
                h2 { (text.text("kind-organisations")) }
                ul { @for (slug, name) in &organisations { li { a href={ "/organisations/" (slug) } { (name) } } } }
            }
            @for (kind, entities) in &kinds {
                @if !entities.is_empty() {
                    section {
                        h2 { (text.text(&kind_heading(*kind))) }
                        ul {
                            @for entity in entities {
                                li { a href=(entity_path(*kind, entity.details.slug.as_str())) { (entity.details.name) } }
                            }
                        }
                    }
                }
            }
            (super::vocabularies::listed(&vocabularies))
        }
    };
    Ok(Page::new(text.text("browse-title"), body))
}

/// `GET /{collection}/{slug}` for one kind of entity.
pub async fn entity(ctx: Ctx, kind: EntityKind, slug: String) -> Response {
    let page = entity_page(&ctx, kind, &slug).await;
    ctx.respond(page)
}

async fn entity_page(ctx: &Ctx, kind: EntityKind, slug: &str) -> Result<Page, ServiceError> {
    let text = messages();
    let entity = ctx
        .state
        .services
        .catalogue
        .entity(kind, &RecordKey::parse(slug))
        .await?;
    let slug = entity.details.slug.as_str();
    let mounted = match kind {
        EntityKind::Platform => instruments_mounted_on(ctx, slug).await?,
        _ => Vec::new(),
    };
    let (datasets, labels) = datasets_of(ctx, kind.as_str(), slug).await?;
    let body = html! {
        article class="entity" {
            p class="kind" { (text.text(&format!("kind-one-{}", kind.collection()))) }
            h1 { (entity.details.name) }
            @if !entity.details.description.trim().is_empty() {
                div class="markdown" { (PreEscaped(markdown::to_html(&entity.details.description))) }
            }
            @if let Some(bbox) = area(&entity) {
                (map(&text.text("campaign-map-label"), &[Extent { bbox: *bbox, title: entity.details.name.clone(), href: None }], false, ctx.state.settings.basemap_url.as_deref()))
            }
            (facts(&entity))
            @if !mounted.is_empty() {
                section {
                    h2 { (text.text("platform-instruments")) }
                    ul {
                        @for (instrument, mounting) in &mounted {
                            li {
                                a href=(entity_path(EntityKind::Instrument, instrument.details.slug.as_str())) { (instrument.details.name) }
                                @if let Some(period) = &mounting.period { " (" (period_text(period)) ")" }
                            }
                        }
                    }
                }
            }
            (datasets)
        }
    };
    let mut page = Page::new(entity.details.name.clone(), body).with_labels(labels);
    page.map = area(&entity).is_some();
    Ok(page)
}

/// `GET /organisations/{slug}`.
pub async fn organisation(ctx: Ctx, Path(slug): Path<String>) -> Response {
    let page = organisation_page(&ctx, &slug).await;
    ctx.respond(page)
}

async fn organisation_page(ctx: &Ctx, slug: &str) -> Result<Page, ServiceError> {
    let text = messages();
    let organisation = ctx
        .state
        .services
        .catalogue
        .organisation(&RecordKey::parse(slug))
        .await?;
    let details = &organisation.details;
    let (datasets, labels) =
        datasets_of(ctx, Facet::Organisation.name(), details.slug.as_str()).await?;
    let body = html! {
        article class="entity" {
            p class="kind" { (text.text("kind-one-organisations")) }
            h1 { (details.name) }
            @if !details.description.trim().is_empty() {
                div class="markdown" { (PreEscaped(markdown::to_html(&details.description))) }
            }
            dl { dt { (text.text("fact-nation")) } dd { (details.nation.as_str()) } }
            (datasets)
        }
    };
    Ok(Page::new(details.name.clone(), body).with_labels(labels))
}

/// The latest datasets that name this value (`platform=rv-alliance`, `organisation=cmre`), as the
/// reader may see them, with a link to all of them; and their labels, for the page's marking.
async fn datasets_of(
    ctx: &Ctx,
    parameter: &str,
    value: &str,
) -> Result<(Markup, Vec<SecurityLabel>), ServiceError> {
    let text = messages();
    let mut request = SearchRequest {
        limit: DATASETS_SHOWN,
        sort: Sort::Modified(Direction::Descending),
        ..Default::default()
    };
    match EntityKind::parse(parameter) {
        Some(kind) => request.entities.push((kind, value.to_owned())),
        None => request.organisation.push(value.to_owned()),
    }
    let results = ctx.state.search.search(ctx.reader(), request).await?;
    let datasets = super::datasets_of(ctx, &results.hits).await?;
    let names = super::Names::of(ctx, &results.facets).await?;
    let count = results.total as u64;
    let markup = html! {
        section class="entity-datasets" {
            h2 { (text.text("entity-datasets")) }
            @if datasets.is_empty() {
                p { (text.text("entity-no-datasets")) }
            } @else {
                (hit_list(ctx, &results.hits, &datasets, &names))
                p { a href=(search_for(parameter, value)) { (text.text_with("entity-all-datasets", &[("count", Arg::Number(count)), ("shown", Arg::Text(&grouped(count)))])) } }
            }
        }
    };
    let labels = datasets
        .iter()
        .map(|dataset| dataset.metadata.security_label.clone())
        .collect();
    Ok((markup, labels))
}

/// The instruments mounted on a platform, with when (one list of the instruments, filtered).
async fn instruments_mounted_on(
    ctx: &Ctx,
    platform: &str,
) -> Result<Vec<(Entity, Mounting)>, ServiceError> {
    let instruments = ctx
        .state
        .services
        .catalogue
        .entities(
            EntityKind::Instrument,
            PageRequest {
                after: None,
                limit: LISTED,
            },
        )
        .await?;
    let mut mounted = Vec::new();
    for instrument in instruments {
        let Facts::Instrument(facts) = &instrument.details.facts else {
            continue;
        };
        let mountings: Vec<Mounting> = facts
            .mounted_on
            .iter()
            .filter(|mounting| mounting.platform.as_str() == platform)
            .cloned()
            .collect();
        for mounting in mountings {
            mounted.push((instrument.clone(), mounting));
        }
    }
    Ok(mounted)
}

/// The area of a campaign, if it has one.
fn area(entity: &Entity) -> Option<&fathom_model::BoundingBox> {
    match &entity.details.facts {
        Facts::Campaign(campaign) => campaign.area.as_ref()?.bbox.as_ref(),
        _ => None,
    }
}

/// What an entity of each kind says, as a list of terms.
fn facts(entity: &Entity) -> Markup {
    let text = messages();
    let term = |id: &str| text.text(id);
    let link = |kind: EntityKind, slug: &Slug| {
        html! { a href=(entity_path(kind, slug.as_str())) { (slug.as_str()) } }
    };
    html! {
        dl class="facts" {
            @match &entity.details.facts {
                Facts::Domain(domain) => {
                    @if !domain.owners.is_empty() { dt { (term("fact-owners")) } dd { (domain.owners.join(", ")) } }
                    @if !domain.stewards.is_empty() { dt { (term("fact-stewards")) } dd { (domain.stewards.join(", ")) } }
                    dt { (term("fact-publication-review")) }
                    dd { (term(if domain.publication_review { "fact-yes" } else { "fact-no" })) }
                }
                Facts::Project(project) => {
                    @if let Some(acronym) = &project.acronym { dt { (term("fact-acronym")) } dd { (acronym) } }
                    @if let Some(period) = &project.period { dt { (term("fact-period")) } dd { (period_text(period)) } }
                    @if let Some(pi) = &project.principal_investigator { dt { (term("fact-principal-investigator")) } dd { (pi) } }
                    @if let Some(funder) = &project.funder { dt { (term("fact-funder")) } dd { (funder) } }
                    @if let Some(homepage) = &project.homepage { dt { (term("fact-homepage")) } dd { a href=(homepage.as_str()) { (homepage.as_str()) } } }
                }
                Facts::Campaign(campaign) => {
                    @if let Some(project) = &campaign.project { dt { (term("fact-project")) } dd { (link(EntityKind::Project, project)) } }
                    @if let Some(period) = &campaign.period { dt { (term("fact-period")) } dd { (period_text(period)) } }
                    @if let Some(bbox) = campaign.area.as_ref().and_then(|area| area.bbox.as_ref()) {
                        dt { (term("fact-area")) }
                        dd { (text.text_with("dataset-bbox-value", &[
                            ("west", Arg::Text(&bbox.west().to_string())),
                            ("south", Arg::Text(&bbox.south().to_string())),
                            ("east", Arg::Text(&bbox.east().to_string())),
                            ("north", Arg::Text(&bbox.north().to_string())),
                        ])) }
                    }
                    @if !campaign.platforms.is_empty() {
                        dt { (term("fact-platforms")) }
                        @for platform in &campaign.platforms { dd { (link(EntityKind::Platform, platform)) } }
                    }
                    @if let Some(chief) = &campaign.chief_scientist { dt { (term("fact-chief-scientist")) } dd { (chief) } }
                }
                Facts::Platform(platform) => {
                    dt { (term("fact-platform-type")) } dd { (platform.platform_type) }
                    @if let Some(operator) = &platform.operator { dt { (term("fact-operator")) } dd { (operator) } }
                    @if !platform.identifiers.is_empty() {
                        dt { (term("fact-identifiers")) }
                        @for identifier in &platform.identifiers { dd { (identifier.scheme) ": " (identifier.value) } }
                    }
                }
                Facts::Instrument(instrument) => {
                    @if let Some(kind) = &instrument.instrument_type { dt { (term("fact-instrument-type")) } dd { (kind) } }
                    @if let Some(manufacturer) = &instrument.manufacturer { dt { (term("fact-manufacturer")) } dd { (manufacturer) } }
                    @if let Some(model) = &instrument.model { dt { (term("fact-model")) } dd { (model) } }
                    @if let Some(serial) = &instrument.serial_number { dt { (term("fact-serial-number")) } dd { (serial) } }
                    @if !instrument.mounted_on.is_empty() {
                        dt { (term("fact-mounted-on")) }
                        @for mounting in &instrument.mounted_on {
                            dd {
                                (link(EntityKind::Platform, &mounting.platform))
                                @if let Some(period) = &mounting.period { " (" (period_text(period)) ")" }
                            }
                        }
                    }
                }
                Facts::ObservedProperty(property) => {
                    @if let Some(concept) = &property.concept { dt { (term("fact-concept")) } dd { a href=(concept.as_str()) { (concept.as_str()) } } }
                    @if let Some(unit) = &property.unit { dt { (term("fact-unit")) } dd { (unit) } }
                }
            }
        }
    }
}

/// `2021-06-07 to 2021-06-18`, either end open.
fn period_text(period: &TemporalExtent) -> String {
    let text = messages();
    let open = text.text("dataset-open");
    text.text_with(
        "dataset-period-value",
        &[
            (
                "start",
                Arg::Text(&period.start.map_or_else(|| open.clone(), date)),
            ),
            (
                "end",
                Arg::Text(&period.end.map_or_else(|| open.clone(), date)),
            ),
        ],
    )
}
