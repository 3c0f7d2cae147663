//! Signing in and out, with a local account or at the OpenID Connect issuer, and the account page.

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_model::Principal;
use fathom_service::{FailedAuthentication, IssuedToken, ServiceError, SignedIn, secrets_match};
use maud::{Markup, html};

use crate::i18n::{Arg, messages};
use crate::session::{local_path, random_token, same_origin};
use crate::{Ctx, Page, layout};

#[derive(Debug, serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `GET /sign-in`: the form; a reader already signed in goes on at once.
pub async fn sign_in_form(ctx: Ctx, Query(query): Query<Next>, headers: HeaderMap) -> Response {
    let next = local_path(query.next.as_deref()).to_owned();
    if ctx.csrf.is_some() {
        return see_other(&next);
    }
    let cookies = &ctx.state.cookies;
    let token = cookies
        .read(&headers, cookies.csrf_name())
        .map_or_else(random_token, str::to_owned);
    form_page(&ctx, &token, &next, "", None)
}

/// `POST /sign-in`: a name and a password; a new session, whatever the reader had before.
pub async fn sign_in(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Response {
    let text = messages();
    let fields = Fields::read(&body);
    let next = local_path(fields.get("next")).to_owned();
    let cookies = &ctx.state.cookies;
    let expected = cookies
        .read(&headers, cookies.csrf_name())
        .unwrap_or_default();
    let name = fields.get("name").unwrap_or_default().trim();
    if !same_origin(&headers) || !secrets_match(fields.get("csrf").unwrap_or_default(), expected) {
        let mut response = form_page(
            &ctx,
            &random_token(),
            &next,
            name,
            Some(text.text("sign-in-expired")),
        );
        *response.status_mut() = StatusCode::FORBIDDEN;
        return response;
    }
    let sessions = &ctx.state.services.sessions;
    let password = fields.get("password").unwrap_or_default();
    let signed_in = match sessions.sign_in(name, password).await {
        Ok(signed_in) => signed_in,
        Err(ServiceError::Unauthenticated) => {
            let mut response = form_page(
                &ctx,
                expected,
                &next,
                name,
                Some(text.text("sign-in-failed")),
            );
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.extensions_mut().insert(FailedAuthentication);
            return response;
        }
        Err(error) => return super::errors::page_of(&ctx, &error),
    };
    start_session(&ctx, &headers, &signed_in, &next).await
}

/// How long a sign-in at the issuer may take, in seconds.
const OIDC_PENDING: u64 = 600;

/// `GET /sign-in/oidc`: to the OpenID Connect issuer, to come back to `next`.
pub async fn sign_in_oidc(ctx: Ctx, Query(query): Query<Next>) -> Response {
    let next = local_path(query.next.as_deref());
    let started = match ctx.state.services.sessions.start_oidc(next).await {
        Ok(started) => started,
        Err(error) => return super::errors::page_of(&ctx, &error),
    };
    let cookies = &ctx.state.cookies;
    let mut response = see_other(&started.url);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies.set(cookies.oidc_name(), &started.pending, OIDC_PENDING, "Lax"),
    );
    response
}

#[derive(Debug, serde::Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /sign-in/oidc/callback`: the issuer sends the browser back with a code (or an error).
pub async fn oidc_callback(
    ctx: Ctx,
    Query(query): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    let text = messages();
    let sessions = &ctx.state.services.sessions;
    let cookies = &ctx.state.cookies;
    let pending = cookies
        .read(&headers, cookies.oidc_name())
        .unwrap_or_default();
    let finished = match (&query.code, &query.state, &query.error) {
        (Some(code), Some(state), None) => sessions.finish_oidc(pending, code, state).await,
        (_, _, Some(error)) => {
            // The issuer's own words, bounded: an error code such as `access_denied`.
            let reason: String = error
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect();
            let refused = sessions
                .refused_oidc(&format!("the issuer answered {reason}"))
                .await;
            let message = text.text_with("sign-in-oidc-refused", &[("reason", Arg::Text(&reason))]);
            return failed_sign_in(&ctx, message, &refused);
        }
        _ => Err(sessions.refused_oidc("no code").await),
    };
    let (signed_in, next) = match finished {
        Ok(finished) => finished,
        Err(error) => return failed_sign_in(&ctx, text.text("sign-in-oidc-failed"), &error),
    };
    let mut response = start_session(&ctx, &headers, &signed_in, local_path(Some(&next))).await;
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies.set(cookies.oidc_name(), "", 0, "Lax"),
    );
    response
}

/// The sign-in form again, saying why signing in at the issuer failed; a refusal counts as a
/// failed authentication.
fn failed_sign_in(ctx: &Ctx, message: String, error: &ServiceError) -> Response {
    if !matches!(error, ServiceError::Unauthenticated) {
        return super::errors::page_of(ctx, error);
    }
    let mut response = form_page(ctx, &random_token(), "/", "", Some(message));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response.extensions_mut().insert(FailedAuthentication);
    response
}

/// The browser's new session: its cookie, the one it had (if any) ended, and on to `next`.
async fn start_session(
    ctx: &Ctx,
    headers: &HeaderMap,
    signed_in: &SignedIn,
    next: &str,
) -> Response {
    let sessions = &ctx.state.services.sessions;
    let cookies = &ctx.state.cookies;
    // The session id changes at every sign-in: the one the browser had (if any) ends.
    if let Some(previous) = cookies.read(headers, cookies.session_name())
        && let Err(error) = sessions.sign_out(previous).await
    {
        return super::errors::page_of(ctx, &error);
    }
    let lifetime = sessions.settings().lifetime.as_secs();
    let mut response = see_other(next);
    let set = response.headers_mut();
    set.append(
        header::SET_COOKIE,
        cookies.set(cookies.session_name(), &signed_in.secret, lifetime, "Lax"),
    );
    set.append(
        header::SET_COOKIE,
        cookies.set(cookies.csrf_name(), "", 0, "Strict"),
    );
    response
}

/// `POST /sign-out`: ends the session.
pub async fn sign_out(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Response {
    let fields = Fields::read(&body);
    let cookies = &ctx.state.cookies;
    if checked_form(&ctx, &headers, &fields).is_none() {
        return refused(&ctx);
    }
    if let Some(secret) = cookies.read(&headers, cookies.session_name())
        && let Err(error) = ctx.state.services.sessions.sign_out(secret).await
    {
        return super::errors::page_of(&ctx, &error);
    }
    let mut response = see_other("/");
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies.set(cookies.session_name(), "", 0, "Lax"),
    );
    response
}

/// `GET /account`: who the reader is to the catalogue, and their API tokens.
pub async fn account(ctx: Ctx) -> Response {
    account_page(&ctx, None).await
}

/// `POST /account/tokens`: a new API token for the signed-in user, shown once.
pub async fn create_token(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Response {
    let fields = Fields::read(&body);
    let Some(reader) = checked_form(&ctx, &headers, &fields) else {
        return refused(&ctx);
    };
    let description = fields.get("description").unwrap_or_default().trim();
    let days = fields.get("days").and_then(|days| days.parse::<u32>().ok());
    let issued = match fathom_service::token_expiry(days) {
        Ok(expires_at) => {
            ctx.state
                .services
                .identity
                .issue_own_token(reader, description, expires_at)
                .await
        }
        Err(error) => Err(error),
    };
    match issued {
        Ok(issued) => account_page(&ctx, Some(issued)).await,
        Err(error) => super::errors::page_of(&ctx, &error),
    }
}

/// `POST /account/tokens/{id}/revoke`: revokes one of the signed-in user's tokens.
pub async fn revoke_token(
    ctx: Ctx,
    Path(id): Path<uuid::Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = Fields::read(&body);
    let Some(reader) = checked_form(&ctx, &headers, &fields) else {
        return refused(&ctx);
    };
    match ctx
        .state
        .services
        .identity
        .revoke_own_token(reader, id)
        .await
    {
        Ok(()) => see_other("/account"),
        Err(error) => super::errors::page_of(&ctx, &error),
    }
}

/// The signed-in reader of a form posted from this site with their session's CSRF token.
fn checked_form<'a>(ctx: &'a Ctx, headers: &HeaderMap, fields: &Fields) -> Option<&'a Principal> {
    let expected = ctx.csrf.as_deref()?;
    let sent = fields.get("csrf").unwrap_or_default();
    (same_origin(headers) && secrets_match(sent, expected))
        .then(|| ctx.reader())
        .flatten()
}

/// The refusal of a form that was not posted from this site, or not by a signed-in reader.
fn refused(ctx: &Ctx) -> Response {
    let refused = ServiceError::refused(
        fathom_service::Code::Forbidden,
        messages().text("sign-in-expired"),
    );
    super::errors::page_of(ctx, &refused)
}

async fn account_page(ctx: &Ctx, issued: Option<IssuedToken>) -> Response {
    let Some(reader) = ctx.reader() else {
        return see_other("/sign-in?next=/account");
    };
    let text = messages();
    let tokens = match ctx.state.services.identity.own_tokens(reader).await {
        Ok(tokens) => tokens,
        Err(error) => return super::errors::page_of(ctx, &error),
    };
    let csrf = ctx.csrf.as_deref();
    let none = text.text("account-none");
    let policy = ctx.state.policy();
    let clearance = reader
        .clearance
        .clone()
        .unwrap_or_else(|| policy.document().public.clone());
    let body = html! {
        h1 { (text.text("account-title")) }
        dl class="account" {
            dt { (text.text("account-name")) } dd { (reader.name) }
            dt { (text.text("account-signed-in-with")) }
            dd { @if tokens.is_some() { (text.text("account-local")) } @else { (text.text("account-oidc")) } }
            dt { (text.text("account-role")) } dd { (reader.role.as_str()) }
            dt { (text.text("account-clearance")) } dd { (clearance) }
            dt { (text.text("account-nationality")) }
            dd { (reader.nationality.as_ref().map_or(none.clone(), |n| n.as_str().to_owned())) }
            dt { (text.text("account-communities")) }
            dd { @if reader.communities.is_empty() { (none) } @else { (reader.communities.join(", ")) } }
            dt { (text.text("account-memberships")) }
            @if reader.memberships.is_empty() { dd { (none) } }
            @for membership in &reader.memberships {
                dd { (membership.organisation.as_str()) " (" (membership.role.as_str()) ")" }
            }
        }
        h2 { (text.text("account-tokens")) }
        @if let Some(issued) = &issued {
            div class="notice" role="status" {
                p { (text.text("token-issued")) }
                p { code class="secret" { (issued.secret) } }
            }
        }
        @if tokens.is_none() {
            p { (text.text("account-tokens-elsewhere")) }
        } @else if tokens.as_ref().is_some_and(Vec::is_empty) {
            p { (text.text("account-no-tokens")) }
        } @else {
            table class="tokens" {
                thead { tr {
                    th scope="col" { (text.text("token-description")) }
                    th scope="col" { (text.text("token-created")) }
                    th scope="col" { (text.text("token-expires")) }
                    th scope="col" { (text.text("token-last-used")) }
                    th scope="col" { (text.text("token-state")) }
                    @if csrf.is_some() { th scope="col" { span class="visually-hidden" { (text.text("token-actions")) } } }
                } }
                tbody {
                    @for token in tokens.iter().flatten() {
                        tr {
                            td { (token.description) }
                            td { (super::date(token.created_at)) }
                            td { (token.expires_at.map_or(text.text("token-never"), super::date)) }
                            td { (token.last_used_at.map_or(text.text("token-never"), super::date)) }
                            td { @if token.revoked_at.is_some() { (text.text("token-revoked")) } @else { (text.text("token-active")) } }
                            @if let Some(csrf) = csrf {
                                td {
                                    @if token.revoked_at.is_none() {
                                        form method="post" action={ "/account/tokens/" (token.id) "/revoke" } class="inline" {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button type="submit" class="secondary" aria-label=(text.text_with("token-revoke-named", &[("description", Arg::Text(&token.description))])) { (text.text("token-revoke")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let (Some(csrf), Some(_)) = (csrf, &tokens) {
            h3 { (text.text("token-new")) }
            form method="post" action="/account/tokens" class="stacked narrow" {
                input type="hidden" name="csrf" value=(csrf);
                label for="description" { (text.text("token-description")) }
                input id="description" name="description" type="text" required maxlength="200";
                label for="days" { (text.text("token-days")) }
                input id="days" name="days" type="number" min="1" max="3650" value="90";
                button type="submit" { (text.text("token-create")) }
            }
        }
    };
    let mut response = layout::render(ctx, Page::new(text.text("account-title"), body));
    if issued.is_some() {
        // The secret is shown once: no copy of this page is kept.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The sign-in form, with what was typed (never the password) and an error to say.
fn form_page(ctx: &Ctx, token: &str, next: &str, name: &str, error: Option<String>) -> Response {
    let text = messages();
    let body: Markup = html! {
        div class="narrow" {
            h1 { (text.text("sign-in-title")) }
            @if let Some(error) = &error {
                div class="error-summary" role="alert" tabindex="-1" {
                    h2 { (text.text("sign-in-problem")) }
                    p { (error) }
                }
            }
            @if ctx.state.services.sessions.offers_oidc() {
                p { a class="button" href={ "/sign-in/oidc?" (super::query_string([("next", next)])) } { (text.text("sign-in-oidc")) } }
                p class="hint or" { (text.text("sign-in-or")) }
            }
            form method="post" action="/sign-in" class="stacked" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label for="name" { (text.text("sign-in-name")) }
                input id="name" name="name" type="text" value=(name) autocomplete="username" required autofocus[name.is_empty()];
                label for="password" { (text.text("sign-in-password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required autofocus[!name.is_empty()];
                button type="submit" { (text.text("sign-in-button")) }
            }
            p class="hint" { (text.text_with("sign-in-hint", &[("command", Arg::Text("fathom user set-password"))])) }
        }
    };
    let mut response = layout::render(ctx, Page::new(text.text("sign-in-title"), body));
    let cookies = &ctx.state.cookies;
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies.set(cookies.csrf_name(), token, 3600, "Strict"),
    );
    response
}

/// `303 See Other` to `location`, where a form's post goes on.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::try_from(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The fields of a posted form.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn read(body: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}
