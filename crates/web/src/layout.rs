//! The one layout of every page: the marking banner at the top and the bottom, the header with the
//! navigation, the content, the footer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_model::{Marking, SecurityLabel};
use maud::{DOCTYPE, Markup, html};

use crate::i18n::{Arg, messages};
use crate::{Ctx, assets, markings};

/// What a handler made: the title, what it shows, and the labels of everything shown (for the
/// banner).
#[derive(Debug)]
pub struct Page {
    pub title: String,
    pub status: StatusCode,
    /// The labels of what the page shows; the banner carries their overall marking.
    pub labels: Vec<SecurityLabel>,
    /// More of `<head>` (a JSON-LD block).
    pub head: Option<Markup>,
    /// Whether the page has a map (and so loads the map's scripts).
    pub map: bool,
    pub body: Markup,
}

impl Page {
    pub fn new(title: impl Into<String>, body: Markup) -> Self {
        Self {
            title: title.into(),
            status: StatusCode::OK,
            labels: Vec::new(),
            head: None,
            map: false,
            body,
        }
    }

    pub fn with_labels(mut self, labels: Vec<SecurityLabel>) -> Self {
        self.labels = labels;
        self
    }
}

/// The portion marking of one item, before its title.
pub fn portion(ctx: &Ctx, label: &SecurityLabel) -> Markup {
    let policy = ctx.state.policy();
    let marking = Marking::of_label(policy, label);
    html! {
        span class={ "portion " (markings::class(policy, &marking)) } title=(marking.line()) {
            (marking.line())
        }
    }
}

pub fn render(ctx: &Ctx, page: Page) -> Response {
    let text = messages();
    let policy = ctx.state.policy();
    let marking = Marking::of(policy, &page.labels);
    let banner = html! {
        div class={ "banner " (markings::class(policy, &marking)) } role="note" aria-label=(text.text("marking-label")) {
            (marking.line())
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " – " (text.text("site-name")) }
                link rel="stylesheet" href=(assets::url("fathom.css"));
                link rel="stylesheet" href={ (assets::PREFIX) (ctx.state.markings.file_name()) };
                link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                @if page.map {
                    link rel="stylesheet" href=(assets::url("leaflet.css"));
                    script src=(assets::url("leaflet.js")) defer {}
                    script src=(assets::url("topojson-client.js")) defer {}
                }
                script src=(assets::url("fathom.js")) defer {}
                @if let Some(head) = &page.head { (head) }
            }
            body {
                a class="skip" href="#main" { (text.text("skip-to-content")) }
                (banner)
                header class="site" {
                    a class="brand" href="/" { (text.text("site-name")) }
                    nav aria-label="Main" {
                        a href="/search" { (text.text("nav-search")) }
                        a href="/browse" { (text.text("nav-browse")) }
                        a href="/docs" { (text.text("nav-api")) }
                        @match (ctx.reader(), &ctx.csrf) {
                            (Some(reader), Some(csrf)) => {
                                a class="who" href="/account" { (text.text_with("nav-signed-in-as", &[("name", Arg::Text(&reader.name))])) }
                                form method="post" action="/sign-out" class="inline" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button type="submit" class="link" { (text.text("sign-out")) }
                                }
                            }
                            (Some(reader), None) => {
                                span class="who" { (text.text_with("nav-signed-in-as", &[("name", Arg::Text(&reader.name))])) }
                            }
                            (None, _) => {
                                a class="who" href="/sign-in" { (text.text("nav-sign-in")) }
                            }
                        }
                    }
                }
                main id="main" { (page.body) }
                footer class="site" {
                    p { (text.text("footer-text")) " " a href="/docs" { (text.text("footer-api-docs")) } }
                }
                (banner)
            }
        }
    };
    let mut response = (page.status, markup.into_string()).into_response();
    for_this_reader(&mut response, "text/html; charset=utf-8");
    response
}

/// Marks `response` as `media_type`, made for the one who reads it: what a page or feed shows
/// depends on who reads, so no shared cache keeps it.
pub fn for_this_reader(response: &mut Response, media_type: &'static str) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("authorization, cookie"),
    );
}
