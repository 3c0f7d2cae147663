//! The pages for people, served beside the API: signing in with a password or at an OpenID Connect
//! provider, sessions, CSRF.

use super::*;

fathom_store::on_both_backends!(
    signing_in_makes_a_session_that_ends_at_sign_out,
    the_account_page_makes_and_revokes_the_users_own_tokens,
    forms_from_other_sites_and_without_their_token_are_refused,
    idle_sessions_end,
    failed_sign_ins_are_security_events_and_rate_limited,
    signing_in_at_the_identity_provider,
    spelling_suggestions_come_from_what_the_reader_may_see,
);

const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// A viewer `name` cleared NATO SECRET, with the password [`PASSWORD`].
    async fn with_password_user(&self, name: &str) {
        self.identity
            .create_user(NewUser {
                name: name.into(),
                role: Role::Viewer,
                clearance: Some("NATO SECRET".into()),
                nationality: Some("NOR".into()),
                communities: vec!["NATO".into()],
                memberships: Vec::new(),
            })
            .await
            .unwrap();
        self.services
            .sessions
            .set_password(name, PASSWORD)
            .await
            .unwrap();
    }

    /// A client that does not follow redirects (to read each answer of a form).
    fn browser(&self) -> Client {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// The sign-in form's CSRF token, as its cookie and its hidden field carry it.
    async fn sign_in_token(&self, browser: &Client) -> String {
        let form = browser
            .get(format!("{}/sign-in", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::OK);
        let cookie = set_cookie(&form, "fathom_csrf").unwrap();
        let html = form.text().await.unwrap();
        assert!(html.contains(&format!("name=\"csrf\" value=\"{cookie}\"")));
        cookie
    }

    /// Opens the sign-in form and posts it as a browser of this site would.
    async fn sign_in(&self, browser: &Client, name: &str, password: &str) -> reqwest::Response {
        let token = self.sign_in_token(browser).await;
        self.post_sign_in(browser, &token, name, password).await
    }

    /// Posts the sign-in form with this CSRF token (in its cookie and its field).
    async fn post_sign_in(
        &self,
        browser: &Client,
        token: &str,
        name: &str,
        password: &str,
    ) -> reqwest::Response {
        browser
            .post(format!("{}/sign-in", self.base))
            .header("cookie", format!("fathom_csrf={token}"))
            .header("origin", &self.base)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([
                    ("csrf", token),
                    ("name", name),
                    ("password", password),
                    ("next", "/account"),
                ])
                .unwrap(),
            )
            .send()
            .await
            .unwrap()
    }

    /// The account page as the browser holding `session` sees it: its status and text.
    async fn account_page(&self, browser: &Client, session: &str) -> (StatusCode, String) {
        let page = browser
            .get(format!("{}/account", self.base))
            .header("cookie", format!("fathom_session={session}"))
            .send()
            .await
            .unwrap();
        (page.status(), page.text().await.unwrap())
    }
}

/// The value a response sets for the cookie `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .filter(|v| !v.is_empty())
}

/// The `<input name="csrf">` of a page's sign-out form.
fn csrf_of(html: &str) -> String {
    let (_, rest) = html.split_once("name=\"csrf\" value=\"").unwrap();
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn signing_in_makes_a_session_that_ends_at_sign_out(db: TestStore) {
    let server = TestApp::start(db).await;
    server.with_password_user("ana").await;
    let browser = server.browser();

    let wrong = server.sign_in(&browser, "ana", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong, "fathom_session").is_none());
    let html = wrong.text().await.unwrap();
    assert!(html.contains("The user name or the password is not right."));
    assert!(html.contains("value=\"ana\""), "what was typed is kept");
    assert!(!html.contains("not the password"), "never the password");

    let signed_in = server.sign_in(&browser, "ana", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[LOCATION], "/account");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("fathom_session="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let first = set_cookie(&signed_in, "fathom_session").unwrap();
    let (status, account) = server.account_page(&browser, &first).await;
    assert_eq!(status, StatusCode::OK);
    for shown in ["ana", "NATO SECRET", "NOR", "NATO", "Sign out"] {
        assert!(account.contains(shown), "{shown}");
    }

    // The session id changes at every sign-in; the browser's previous one ends.
    let again = browser
        .post(format!("{}/sign-in", server.base))
        .header("origin", &server.base)
        .header(
            "cookie",
            format!("fathom_session={first}; fathom_csrf=t0ken"),
        )
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "csrf=t0ken&name=ana&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let second = set_cookie(&again, "fathom_session").unwrap();
    assert_ne!(first, second);
    let (status, _) = server.account_page(&browser, &first).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the first session ended");

    // Pages read by the session's principal: the catalogue's SECRET datasets are theirs to see.
    let (_, account) = server.account_page(&browser, &second).await;
    let csrf = csrf_of(&account);
    let signed_out = browser
        .post(format!("{}/sign-out", server.base))
        .header("origin", &server.base)
        .header("cookie", format!("fathom_session={second}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let (status, _) = server.account_page(&browser, &second).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out");
    let events: Vec<String> = server
        .db
        .store
        .audit_events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    for event in ["password_set", "signed_in", "sign_in_failed"] {
        assert!(events.iter().any(|e| e == event), "{event}: {events:?}");
    }
}

async fn forms_from_other_sites_and_without_their_token_are_refused(db: TestStore) {
    let server = TestApp::start(db).await;
    server.with_password_user("ana").await;
    let browser = server.browser();
    let token = server.sign_in_token(&browser).await;
    let post = |origin: &'static str, cookie: String, csrf: String| {
        browser
            .post(format!("{}/sign-in", server.base))
            .header("origin", origin)
            .header("cookie", cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!(
                "csrf={csrf}&name=ana&password={}",
                PASSWORD.replace(' ', "+")
            ))
            .send()
    };
    // A cross-site post, even with the right token; and a post whose token is not the cookie's.
    let cross_site = post(
        "https://evil.example",
        format!("fathom_csrf={token}"),
        token.clone(),
    )
    .await
    .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&cross_site, "fathom_session").is_none());
    let signed_in = server.sign_in(&browser, "ana", PASSWORD).await;
    let session = set_cookie(&signed_in, "fathom_session").unwrap();
    let forged = browser
        .post(format!("{}/sign-out", server.base))
        .header("cookie", format!("fathom_session={session}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("csrf=guessed")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (status, _) = server.account_page(&browser, &session).await;
    assert_eq!(status, StatusCode::OK, "still signed in");
}

async fn idle_sessions_end(db: TestStore) {
    let server = TestApp::start_with(
        db,
        |settings| settings.sessions.idle = std::time::Duration::from_secs(1),
        |_| {},
    )
    .await;
    server.with_password_user("ana").await;
    let browser = server.browser();
    let signed_in = server.sign_in(&browser, "ana", PASSWORD).await;
    let session = set_cookie(&signed_in, "fathom_session").unwrap();
    let (status, _) = server.account_page(&browser, &session).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, _) = server.account_page(&browser, &session).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "idle too long");
    assert_eq!(server.services.sessions.prune().await.unwrap(), 1);
}

async fn failed_sign_ins_are_security_events_and_rate_limited(db: TestStore) {
    let server = TestApp::start(db).await;
    server.with_password_user("ana").await;
    let browser = server.browser();
    let token = server.sign_in_token(&browser).await;
    let mut statuses = Vec::new();
    for _ in 0..FAILURES_PER_MINUTE + 2 {
        let refused = server.post_sign_in(&browser, &token, "ana", "wrong").await;
        statuses.push(refused.status());
    }
    assert_eq!(
        statuses[..FAILURES_PER_MINUTE as usize],
        vec![StatusCode::UNAUTHORIZED; FAILURES_PER_MINUTE as usize]
    );
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    // Even the right password waits now.
    let blocked = server.post_sign_in(&browser, &token, "ana", PASSWORD).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn the_account_page_makes_and_revokes_the_users_own_tokens(db: TestStore) {
    let server = TestApp::start(db).await;
    server.with_password_user("ana").await;
    let browser = server.browser();
    let signed_in = server.sign_in(&browser, "ana", PASSWORD).await;
    let session = set_cookie(&signed_in, "fathom_session").unwrap();
    let (_, account) = server.account_page(&browser, &session).await;
    let csrf = csrf_of(&account);
    let post = |path: String, body: String| {
        browser
            .post(format!("{}{path}", server.base))
            .header("origin", &server.base)
            .header("cookie", format!("fathom_session={session}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let created = post(
        "/account/tokens".into(),
        format!("csrf={csrf}&description=notebook&days=30"),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let html = created.text().await.unwrap();
    let (_, rest) = html.split_once("<code class=\"secret\">").unwrap();
    let secret = &rest[..rest.find('<').unwrap()];
    assert!(secret.starts_with("fthm_"));
    let me = |token: String| {
        server
            .request(Method::GET, "/api/v1/me", Some(&token))
            .send()
    };
    assert_eq!(
        me(secret.to_owned()).await.unwrap().status(),
        StatusCode::OK
    );

    // Someone else's token cannot be revoked from this account; one's own can.
    let other = server
        .identity
        .create_token("someone-else", Role::Viewer, "", None)
        .await
        .unwrap();
    let foreign = post(
        format!("/account/tokens/{}/revoke", other.id),
        format!("csrf={csrf}"),
    )
    .await
    .unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(me(other.secret).await.unwrap().status(), StatusCode::OK);
    let own = server.identity.tokens(Some("ana")).await.unwrap();
    let revoked = post(
        format!("/account/tokens/{}/revoke", own[0].id),
        format!("csrf={csrf}"),
    )
    .await
    .unwrap();
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        me(secret.to_owned()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let forged = post(
        format!("/account/tokens/{}/revoke", own[0].id),
        "csrf=forged".into(),
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

/// The cookies a browser holds, by name (cookies ignore ports: Fathom and the provider, both on
/// 127.0.0.1, see each other's, as in a browser).
#[derive(Default)]
struct Jar(std::collections::BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for cookie in response.headers().get_all("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let response = request
            .header("cookie", self.header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }
}

/// Where a redirect goes, as an absolute address.
fn location(response: &reqwest::Response, origin: &str) -> String {
    let location = response.headers()[LOCATION].to_str().unwrap();
    if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        location.to_owned()
    }
}

/// The authorization code flow against the real provider (oidc-provider, its own login and consent
/// pages): the session carries the provider's claims; a browser without the sign-in's cookie, a
/// changed state, a replayed code and a refusal at the provider are failed sign-ins, and audited.
async fn signing_in_at_the_identity_provider(db: TestStore) {
    if !super::users::provider_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    let mut provider = None;
    let server = TestApp::start_with(
        db,
        |settings| {
            let redirect = format!("{}{}", settings.site.base, fathom_service::CALLBACK_PATH);
            let started = super::users::Provider::start(&keys, None, Some(&redirect));
            let client = fathom_service::OidcClient {
                id: "fathom-web".into(),
                secret: "fathom-web-secret".into(),
                scopes: vec!["fathom".into()],
            };
            settings.oidc =
                Some(fathom_service::OidcConfig::new(&started.issuer).with_client(client));
            provider = Some(started);
        },
        |_| {},
    )
    .await;
    let issuer = provider.as_ref().unwrap().issuer.clone();
    let browser = server.browser();
    let mut jar = Jar::default();

    // The sign-in page offers the provider; its link goes there with a PKCE challenge.
    let form = jar
        .send(browser.get(format!("{}/sign-in?next=/account", server.base)))
        .await;
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("href=\"/sign-in/oidc?next=%2Faccount\"")
    );
    let start = jar
        .send(browser.get(format!("{}/sign-in/oidc?next=/account", server.base)))
        .await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let mut at = location(&start, &server.base);
    assert!(at.starts_with(&format!("{issuer}/auth?")), "{at}");
    assert!(at.contains("code_challenge_method=S256") && at.contains("nonce="));
    assert!(jar.0.contains_key("fathom_oidc"));

    // Through the provider's pages: each form posted as a person would, as `analyst`.
    let mut steps = 0;
    while !at.starts_with(&server.base) {
        steps += 1;
        assert!(steps < 12, "the provider's pages do not end at Fathom");
        let answer = jar.send(browser.get(&at)).await;
        if answer.status().is_redirection() {
            at = location(&answer, &issuer);
            continue;
        }
        let html = answer.text().await.unwrap();
        let (_, rest) = html.split_once("action=\"").unwrap();
        let action = &rest[..rest.find('"').unwrap()];
        let action = if action.starts_with('/') {
            format!("{issuer}{action}")
        } else {
            action.to_owned()
        };
        let (_, rest) = html.split_once("name=\"prompt\" value=\"").unwrap();
        let prompt = &rest[..rest.find('"').unwrap()];
        let body = serde_urlencoded::to_string([
            ("prompt", prompt),
            ("login", "analyst"),
            ("password", "anything"),
        ])
        .unwrap();
        let posted = jar
            .send(
                browser
                    .post(action)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body),
            )
            .await;
        at = location(&posted, &issuer);
    }
    let callback = at;
    let pending = jar.0["fathom_oidc"].clone();

    // A browser that did not begin this sign-in cannot end it (login CSRF), nor can a changed state.
    let stranger = browser.get(&callback).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&stranger, "fathom_session").is_none());
    let changed = callback.replace("state=", "state=x");
    let changed = jar.send(browser.get(&changed)).await;
    assert_eq!(changed.status(), StatusCode::UNAUTHORIZED);

    // The browser that began it signs in, and goes on to where it was going.
    jar.0.insert("fathom_oidc".into(), pending.clone());
    let finished = jar.send(browser.get(&callback)).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    assert_eq!(finished.headers()[LOCATION], "/account");
    let session = set_cookie(&finished, "fathom_session").expect("a session");
    assert!(
        !jar.0.contains_key("fathom_oidc"),
        "the sign-in's cookie is spent"
    );
    let (status, account) = server.account_page(&browser, &session).await;
    assert_eq!(status, StatusCode::OK);
    for claim in [
        "analyst",
        "NATO SECRET",
        "NOR",
        "cmre (steward)",
        "identity provider",
    ] {
        assert!(account.contains(claim), "the account page shows {claim}");
    }
    assert!(
        !account.contains("action=\"/account/tokens\""),
        "no local tokens"
    );

    // The code is spent: the same callback again is refused by the provider.
    jar.0.insert("fathom_oidc".into(), pending);
    let replayed = jar.send(browser.get(&callback)).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    // A refusal at the provider is said, and is a failed sign-in too.
    let denied = browser
        .get(format!(
            "{}{}?error=access_denied&state=s",
            server.base,
            fathom_service::CALLBACK_PATH
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert!(denied.text().await.unwrap().contains("access_denied"));

    let audit = server.audit().await;
    let events: Vec<(String, String)> = audit
        .iter()
        .filter(|entry| entry["event"].as_str().unwrap().starts_with("sign"))
        .map(|entry| {
            (
                entry["event"].as_str().unwrap().to_owned(),
                entry["details"]["why"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let failed = events
        .iter()
        .filter(|(event, _)| event == "sign_in_failed")
        .count();
    assert_eq!(failed, 4, "{events:?}");
    assert!(
        events.contains(&("signed_in".into(), String::new())),
        "{events:?}"
    );
    assert!(
        events.iter().any(|(_, why)| why.contains("state")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(_, why)| why.contains("refused the code")),
        "{events:?}"
    );
}

/// A search that finds nothing suggests another spelling, made of words of titles and keywords the
/// reader may see, never of a dataset they may not.
async fn spelling_suggestions_come_from_what_the_reader_may_see(db: TestStore) {
    let server = TestApp::start(db).await;
    server.with_organisation("cmre").await;
    for body in [
        json!({"title": "Hydrophone recordings, Skagerrak", "organisation": "cmre", "keywords": ["ambient noise"]}),
        json!({"title": "Zanzibarite sonar trials", "organisation": "cmre",
               "security_label": {"classification": "NATO SECRET"}}),
    ] {
        let created = server
            .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    server.search.catch_up().await.unwrap();
    let cleared = server
        .cleared_token(NewUser {
            name: "cleared".into(),
            role: Role::Viewer,
            clearance: Some("NATO SECRET".into()),
            nationality: None,
            communities: Vec::new(),
            memberships: Vec::new(),
        })
        .await;
    // A page or an answer of the pages, as read by the holder of `token` (anonymously without).
    let read = |path: &'static str, token: Option<String>| {
        let server = &server;
        async move {
            let mut request = server.browser().get(format!("{}{path}", server.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), StatusCode::OK, "{path}");
            answer
        }
    };
    let page = |path: &'static str, token: Option<String>| {
        let read = &read;
        async move { read(path, token).await.text().await.unwrap() }
    };
    // Two letters wrong in each of two words: nothing found, and both respelt.
    let html = page("/search?q=hydrofone+skogerak", None).await;
    assert!(html.contains("Did you mean"), "{html}");
    assert!(
        html.contains("href=\"/search?q=hydrophone+skagerrak\""),
        "{html}"
    );
    // The secret dataset's word is suggested to a reader cleared for it, to no one else.
    let html = page("/search?q=zansibarrite", None).await;
    assert!(!html.contains("Did you mean"));
    assert!(!html.to_lowercase().contains("zanzibarite"));
    let html = page("/search?q=zansibarrite", Some(cleared.clone())).await;
    assert!(html.contains("href=\"/search?q=zanzibarite\""), "{html}");
    // The search box's suggestions, too, are what the reader may see.
    let suggested = |token: Option<String>| {
        let read = &read;
        async move {
            let answer = read("/search/suggest?q=zanzibarite%20so", token).await;
            assert_eq!(answer.headers()["vary"], "authorization, cookie");
            answer.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(suggested(None).await, json!([]));
    assert_eq!(
        suggested(Some(cleared.clone())).await,
        json!([{"title": "Zanzibarite sonar trials", "href": "/datasets/zanzibarite-sonar-trials"}])
    );
    // A search that finds something suggests nothing.
    let html = page("/search?q=hydrophone", None).await;
    assert!(!html.contains("Did you mean"));
}
