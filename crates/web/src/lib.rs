//! Pages for people: the catalogue in a browser, rendered on the server. Each page calls the same use
//! cases as the API, for the same reader, and shows what comes back; nothing here reads the store.
//!
//! Every page works without JavaScript (forms are plain GETs with the API's parameters); the small
//! script in `assets/` only enhances. The Content-Security-Policy allows no inline script or style.

mod assets;
mod citation;
mod i18n;
mod layout;
mod markdown;
mod markings;
mod pages;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use fathom_model::{Policy, Principal};
use fathom_service::{Search, ServiceError, Services};

pub use layout::Page;

/// What the pages reach: the use cases, the search index, the policy's markings and the cookies'
/// names.
#[derive(Debug)]
pub struct WebState {
    services: Services,
    search: Search,
    markings: markings::Stylesheet,
    cookies: session::Cookies,
}

impl WebState {
    /// The pages over `services`, which must have opened the search index (`None` otherwise).
    pub fn new(services: Services) -> Option<Self> {
        let search = services.search.clone()?;
        let markings = markings::Stylesheet::of(services.catalogue.policy());
        let cookies = session::Cookies::new(services.site.base.starts_with("https://"));
        Some(Self {
            services,
            search,
            markings,
            cookies,
        })
    }

    fn policy(&self) -> &Policy {
        self.services.catalogue.policy()
    }
}

/// The pages, to be mounted at `/` beside the API.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::home::home))
        .route("/search", get(pages::search::search))
        .route("/datasets/{slug}", get(pages::dataset::dataset))
        .route(
            "/datasets/{slug}/export/{format}",
            get(pages::dataset::export),
        )
        .route("/datasets/{slug}/{file}", get(pages::dataset::citation))
        .route(
            "/sign-in",
            get(pages::account::sign_in_form).post(pages::account::sign_in),
        )
        .route("/sign-out", axum::routing::post(pages::account::sign_out))
        .route("/account", get(pages::account::account))
        .route("/assets/{file}", get(serve_asset))
        .fallback(pages::errors::not_found)
        .layer(axum::middleware::map_response(page_headers))
        .with_state(Arc::new(state))
}

/// The assets: the embedded files, and the policy's marking colours.
async fn serve_asset(
    axum::extract::State(state): axum::extract::State<Arc<WebState>>,
    path: axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    if path.0 == state.markings.file_name() {
        return state.markings.serve();
    }
    assets::serve(path, headers).await
}

/// Pages load their own scripts, styles and images, nothing inline and nothing from elsewhere.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A request to a page: the state, who reads, and the CSRF token of their session.
#[derive(Debug, Clone)]
pub struct Ctx {
    state: Arc<WebState>,
    reader: Option<Principal>,
    /// The token the forms of a signed-in reader carry.
    csrf: Option<String>,
}

impl Ctx {
    fn reader(&self) -> Option<&Principal> {
        self.reader.as_ref()
    }

    /// The page, or the error page of `error`.
    fn respond(&self, page: Result<Page, ServiceError>) -> Response {
        match page {
            Ok(page) => layout::render(self, page),
            Err(error) => pages::errors::page_of(self, &error),
        }
    }
}

impl FromRequestParts<Arc<WebState>> for Ctx {
    type Rejection = Response;

    /// A reader signed in on a page reads as their session's principal; one who sends a bearer
    /// token, as its principal (a script, a test), and a token that is sent must be valid, as for
    /// the API. A session that has ended is no session: the page is read anonymously.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<WebState>,
    ) -> Result<Self, Response> {
        let mut ctx = Self {
            state: Arc::clone(state),
            reader: None,
            csrf: None,
        };
        let Some(authorization) = parts.headers.get(header::AUTHORIZATION) else {
            let cookies = &state.cookies;
            let Some(secret) = cookies.read(&parts.headers, cookies.session_name()) else {
                return Ok(ctx);
            };
            let session = match state.services.sessions.session(secret).await {
                Ok(session) => session,
                Err(ServiceError::Unauthenticated) => return Ok(ctx),
                Err(error) => return Err(pages::errors::page_of(&ctx, &error)),
            };
            match state.services.sharing.with_grants(session.principal).await {
                Ok(principal) => {
                    ctx.reader = Some(principal);
                    ctx.csrf = Some(session.csrf_token);
                    return Ok(ctx);
                }
                Err(error) => return Err(pages::errors::page_of(&ctx, &error)),
            }
        };
        let token = authorization
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let principal = match token {
            Some(token) => authenticated(state, token).await,
            None => Err(ServiceError::Unauthenticated),
        };
        match principal {
            Ok(principal) => {
                ctx.reader = Some(principal);
                Ok(ctx)
            }
            Err(error) => Err(pages::errors::page_of(&ctx, &error)),
        }
    }
}

async fn authenticated(state: &WebState, token: &str) -> Result<Principal, ServiceError> {
    let principal = state.services.identity.authenticate(token).await?;
    state.services.sharing.with_grants(principal).await
}
