//! `/`: a search box, what the reader may see counted by domain, organisation and classification,
//! and the datasets published most recently.

use axum::response::Response;
use fathom_model::{EntityKind, SecurityLabel};
use fathom_service::{Direction, Facet, SearchRequest, ServiceError, Sort};
use maud::{Markup, html};

use super::{Names, datasets_of, grouped, search_for};
use crate::i18n::{Arg, messages};
use crate::pages::search::{hit_list, search_form_box};
use crate::{Ctx, Page};

/// How many recent datasets the home page lists.
const RECENT: usize = 8;

pub async fn home(ctx: Ctx) -> Response {
    let page = home_page(&ctx).await;
    ctx.respond(page)
}

async fn home_page(ctx: &Ctx) -> Result<Page, ServiceError> {
    let text = messages();
    let search = &ctx.state.search;
    let counts = search
        .search(
            ctx.reader(),
            SearchRequest {
                limit: 1,
                facets: vec![
                    Facet::Entity(EntityKind::Domain),
                    Facet::Organisation,
                    Facet::Classification,
                ],
                ..Default::default()
            },
        )
        .await?;
    let recent = search
        .search(
            ctx.reader(),
            SearchRequest {
                limit: RECENT,
                state: vec!["published".to_owned()],
                sort: Sort::Modified(Direction::Descending),
                ..Default::default()
            },
        )
        .await?;
    let datasets = datasets_of(ctx, &recent.hits).await?;
    let names = Names::of(ctx, &counts.facets).await?;
    let policy = ctx.state.policy();
    // The page shows the count of each classification it lists: it is marked as their highest.
    let mut labels: Vec<SecurityLabel> = counts
        .facets
        .get(Facet::Classification.name())
        .into_iter()
        .flatten()
        .map(|count| SecurityLabel {
            policy: policy.id().to_owned(),
            classification: count.value.clone(),
            privacy_mark: None,
            categories: Vec::new(),
        })
        .collect();
    labels.extend(datasets.iter().map(|d| d.metadata.security_label.clone()));
    let counted = |facet: Facet, heading: &str| -> Markup {
        let mut values = counts.facets.get(facet.name()).cloned().unwrap_or_default();
        if facet == Facet::Classification {
            // Highest first, as the policy ranks them.
            values.sort_by_key(|count| std::cmp::Reverse(policy.rank(&count.value)));
        }
        html! {
            @if !values.is_empty() {
                section class="counts" {
                    h2 { (text.text(heading)) }
                    ul {
                        @for count in &values {
                            li {
                                @if facet == Facet::Classification {
                                    span { (count.value) }
                                } @else {
                                    a href=(search_for(facet.name(), &count.value)) { (names.shown(facet, &count.value)) }
                                }
                                " " span class="count" { (grouped(count.count)) }
                            }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        section class="hero" {
            h1 { (text.text("home-title")) }
            p class="lead" { (text.text("home-lead")) }
            form method="get" action="/search" role="search" { (search_form_box("")) }
            p { a href="/search" { (text.text_with("home-all-datasets", &[("count", Arg::Text(&grouped(counts.total as u64)))])) } }
        }
        div class="home-grid" {
            section class="recent" {
                h2 { (text.text("home-recent")) }
                @if datasets.is_empty() {
                    p { (text.text("home-none")) }
                } @else {
                    (hit_list(ctx, &recent.hits, &datasets, &names))
                }
            }
            aside class="home-counts" {
                (counted(Facet::Entity(EntityKind::Domain), "home-by-domain"))
                (counted(Facet::Organisation, "home-by-organisation"))
                (counted(Facet::Classification, "home-by-classification"))
            }
        }
    };
    Ok(Page::new(text.text("home-title"), body).with_labels(labels))
}
