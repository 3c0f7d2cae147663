//! Pages for people: the catalogue in a browser, rendered on the server. Each page calls the same use
//! cases as the API, for the same reader, and shows what comes back; nothing here reads the store.
//!
//! Every page works without JavaScript (forms are plain GETs with the API's parameters); the small
//! script in `assets/` only enhances. The Content-Security-Policy allows no inline script or style.

mod assets;
mod citation;
mod i18n;
mod layout;
mod map;
mod markdown;
mod markings;
mod pages;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use fathom_model::{EntityKind, Policy, Principal};
use fathom_service::{Search, ServiceError, Services};

pub use layout::Page;

/// How the pages are set up, beyond the use cases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebSettings {
    /// A tile service for the maps' basemap, as a Leaflet URL template
    /// (`https://tiles.example.org/{z}/{x}/{y}.png`); without it, the embedded Natural Earth land.
    pub basemap_url: Option<String>,
}

/// What the pages reach: the use cases, the search index, the policy's markings, the cookies'
/// names and the settings.
#[derive(Debug)]
pub struct WebState {
    services: Services,
    search: Search,
    markings: markings::Stylesheet,
    cookies: session::Cookies,
    settings: WebSettings,
    /// The Content-Security-Policy of every page (which allows the basemap's tiles, if any).
    policy_header: HeaderValue,
}

impl WebState {
    /// The pages over `services`, which must have opened the search index (`None` otherwise).
    pub fn new(services: Services, settings: WebSettings) -> Option<Self> {
        let search = services.search.clone()?;
        let markings = markings::Stylesheet::of(services.catalogue.policy());
        let cookies = session::Cookies::new(services.site.base.starts_with("https://"));
        let policy_header = page_policy(settings.basemap_url.as_deref());
        Some(Self {
            services,
            search,
            markings,
            cookies,
            settings,
            policy_header,
        })
    }

    fn policy(&self) -> &Policy {
        self.services.catalogue.policy()
    }
}

/// The pages, to be mounted at `/` beside the API.
pub fn router(state: WebState) -> Router {
    let state = Arc::new(state);
    let entities = EntityKind::ALL
        .into_iter()
        .fold(Router::new(), |router, kind| {
            router.route(
                &format!("/{}/{{slug}}", kind.collection()),
                get(move |ctx: Ctx, Path(slug): Path<String>| {
                    pages::model::entity(ctx, kind, slug)
                }),
            )
        });
    entities
        .route("/", get(pages::home::home))
        .route("/browse", get(pages::model::browse))
        .route("/organisations/{slug}", get(pages::model::organisation))
        .route("/vocabularies/{slug}", get(pages::vocabularies::vocabulary))
        .route(
            "/vocabularies/{slug}/concept",
            get(pages::vocabularies::concept),
        )
        .route("/search", get(pages::search::search))
        .route("/search.atom", get(pages::search::feed))
        .route("/search/suggest", get(pages::search::suggest))
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
        .route("/sign-in/oidc", get(pages::account::sign_in_oidc))
        .route(
            fathom_service::CALLBACK_PATH,
            get(pages::account::oidc_callback),
        )
        .route("/sign-out", axum::routing::post(pages::account::sign_out))
        .route("/account", get(pages::account::account))
        .route(
            "/account/tokens",
            axum::routing::post(pages::account::create_token),
        )
        .route(
            "/account/tokens/{id}/revoke",
            axum::routing::post(pages::account::revoke_token),
        )
        .route("/assets/{file}", get(serve_asset))
        .fallback(pages::errors::not_found)
        .layer(axum::middleware::map_response_with_state(
            Arc::clone(&state),
            page_headers,
        ))
        .with_state(state)
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

/// Pages load their own scripts, styles and images, nothing inline and nothing from elsewhere but
/// the basemap's tiles when a tile service is configured.
fn page_policy(basemap_url: Option<&str>) -> HeaderValue {
    let tiles = basemap_url
        .and_then(|url| {
            let (scheme, rest) = url.split_once("://")?;
            let host = rest.split('/').next()?;
            Some(format!(" {scheme}://{host}"))
        })
        .unwrap_or_default();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    HeaderValue::try_from(policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
}

async fn page_headers(
    axum::extract::State(state): axum::extract::State<Arc<WebState>>,
    mut response: Response,
) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, state.policy_header.clone());
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
