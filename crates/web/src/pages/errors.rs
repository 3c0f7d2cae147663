//! Error pages that look like the rest. A dataset the reader may not see is the same 404 as one
//! that does not exist: the use cases answer `NotFound` for both.

use axum::http::StatusCode;
use axum::response::Response;
use fathom_service::{Code, ServiceError};
use maud::html;

use crate::i18n::{Arg, messages};
use crate::{Ctx, Page, layout};

/// The fallback: no page at this address.
pub async fn not_found(ctx: Ctx) -> Response {
    page_of(&ctx, &ServiceError::NotFound("page"))
}

/// The page of a use case's error.
pub fn page_of(ctx: &Ctx, error: &ServiceError) -> Response {
    let text = messages();
    let status =
        StatusCode::from_u16(error.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (title, detail) = match error.code() {
        Code::NotFound => (
            text.text("error-not-found-title"),
            text.text("error-not-found-text"),
        ),
        Code::Unauthenticated => (
            text.text("error-unauthenticated-title"),
            text.text("error-unauthenticated-text"),
        ),
        _ if status.is_server_error() => {
            let reference = uuid::Uuid::now_v7().to_string();
            tracing::error!(error = %error, reference, "page failed");
            (
                text.text("error-internal-title"),
                text.text_with(
                    "error-internal-text",
                    &[("reference", Arg::Text(&reference))],
                ),
            )
        }
        _ if status == StatusCode::FORBIDDEN => (
            text.text("error-forbidden-title"),
            text.text("error-forbidden-text"),
        ),
        // A refusal the reader can act on: its words say why.
        _ => (text.text("error-bad-request-title"), error.summary()),
    };
    let body = html! {
        div class="error-page" {
            h1 { (title) }
            p { (detail) }
            p { a href="/" { (text.text("error-back-home")) } }
        }
    };
    let mut page = Page::new(title, body);
    page.status = status;
    layout::render(ctx, page)
}
