//! Users and tokens, and OpenID Connect tokens from a real provider.

use super::*;

fathom_store::on_both_backends!(
    users_and_tokens_are_managed_by_admins,
    oidc_tokens_from_a_real_provider,
);

async fn users_and_tokens_are_managed_by_admins(db: TestStore) {
    let server = TestApp::start(db).await;
    server.with_organisation("cmre").await;
    problem(server.get("/api/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let me = |token: String| {
        let server = &server;
        async move {
            server
                .request(Method::GET, "/api/v1/me", Some(&token))
                .send()
                .await
                .unwrap()
        }
    };
    let editor: Value = me(server.editor.clone()).await.json().await.unwrap();
    assert_eq!(
        (
            editor["username"].as_str(),
            editor["role"].as_str(),
            editor["authenticated_by"].as_str()
        ),
        (Some("ed"), Some("editor"), Some("api_token"))
    );

    let ana = json!({"username": "ana", "clearance": "NATO SECRET", "nationality": "NOR",
        "communities": ["NATO"], "memberships": [{"organisation": "cmre", "role": "steward"}]});
    problem(
        server
            .send_json(Method::POST, "/api/v1/users", &server.editor, &ana)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let created = server
        .send_json(Method::POST, "/api/v1/users", &server.admin, &ana)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    problem(
        server
            .send_json(Method::POST, "/api/v1/users", &server.admin, &ana)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    for (bad, pointer) in [
        (
            json!({"username": "bo", "clearance": "TOP SECRET"}),
            "/clearance",
        ),
        (
            json!({"username": "bo", "nationality": "XX"}),
            "/nationality",
        ),
        (
            json!({"username": "bo", "memberships": [{"organisation": "nowhere", "role": "editor"}]}),
            "/memberships/0/organisation",
        ),
        (
            json!({"username": "bo", "memberships": [{"organisation": "cmre", "role": "boss"}]}),
            "/memberships/0/role",
        ),
    ] {
        let body = problem(
            server
                .send_json(Method::POST, "/api/v1/users", &server.admin, &bad)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["pointer"], pointer, "{body}");
    }

    let issued = server
        .send_json(
            Method::POST,
            "/api/v1/users/ana/tokens",
            &server.admin,
            &json!({"description": "laptop", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let issued: Value = issued.json().await.unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("fthm_"));
    assert!(issued["expires_at"].is_string());
    let seen: Value = me(token.clone()).await.json().await.unwrap();
    assert_eq!(seen["clearance"], "NATO SECRET");
    assert_eq!(
        seen["memberships"],
        json!([{"organisation": "cmre", "role": "steward"}])
    );
    problem(
        server
            .send_json(
                Method::POST,
                "/api/v1/users/nobody/tokens",
                &server.admin,
                &json!({}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let users: Value = server
        .request(Method::GET, "/api/v1/users", Some(&server.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "ana")
    );

    assert_eq!(seen["scopes"], json!(["read", "write"]));

    // Scopes narrow a token within its user's role.
    let issue = |username: &'static str, body: Value| {
        let server = &server;
        async move {
            server
                .send_json(
                    Method::POST,
                    &format!("/api/v1/users/{username}/tokens"),
                    &server.admin,
                    &body,
                )
                .await
        }
    };
    let beyond = problem(
        issue("ana", json!({"scopes": ["read", "admin"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(beyond["type"], "urn:fathom:problem:validation-failed");
    assert_eq!(beyond["errors"][0]["pointer"], "/scopes/1", "{beyond}");
    // A lifetime past any date is refused, not a fault (it overflowed the clock).
    let forever = problem(
        issue("ana", json!({"expires_in_days": 2_147_483_648_u64})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        forever["errors"][0]["pointer"], "/expires_in_days",
        "{forever}"
    );
    let reading: Value = issue("ed", json!({"scopes": ["read"]}))
        .await
        .json()
        .await
        .unwrap();
    let reading = reading["token"].as_str().unwrap().to_owned();
    let refused = problem(
        server
            .send_json(
                Method::POST,
                "/api/v1/datasets",
                &reading,
                &json!({"title": "x", "organisation": "cmre"}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        refused["detail"].as_str().unwrap().contains("only read"),
        "{refused}"
    );

    let path = format!("/api/v1/tokens/{}", issued["id"].as_str().unwrap());
    problem(
        server
            .request(Method::DELETE, &path, Some(&server.editor))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let revoked = server
        .request(Method::DELETE, &path, Some(&server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    problem(me(token).await, StatusCode::UNAUTHORIZED).await;

    // Each of those is in the audit log, in order, naming the admin who acted.
    let entries = server.db.store.audit_events(0, 1000).await.unwrap();
    let position = |event: &str, subject: Option<&str>| {
        entries
            .iter()
            .position(|e| {
                e.event == event && (subject.is_none() || e.subject.as_deref() == subject)
            })
            .unwrap_or_else(|| panic!("{event} in {entries:?}"))
    };
    let (user_created, token_created, token_revoked) = (
        position("user_created", Some("ana")),
        position("token_created", Some("ana")),
        position("token_revoked", None),
    );
    assert!(user_created < token_created);
    assert!(position("write_denied", Some("x")) < token_revoked);
    assert!(token_revoked < position("authentication_failed", None));
    for at in [user_created, token_created, token_revoked] {
        assert_eq!(
            entries[at].actor.as_deref(),
            Some("root"),
            "{:?}",
            entries[at]
        );
    }
    let revocations = entries
        .iter()
        .filter(|e| e.event == "token_revoked")
        .count();
    assert_eq!(revocations, 1, "the editor's refused revocation left none");
}

/// A real OpenID Connect provider (`oidc-provider` from npm, `tests/oidc/provider.mjs`), run by node.
pub(super) struct Provider {
    process: std::process::Child,
    pub(super) issuer: String,
    keys: std::path::PathBuf,
}

const OIDC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/oidc");

/// Whether the provider's packages are installed (under CI they must be).
pub(super) fn provider_installed() -> bool {
    let installed = std::path::Path::new(OIDC_DIR)
        .join("node_modules/oidc-provider")
        .exists();
    assert!(
        installed || std::env::var("CI").is_err(),
        "tests/oidc/node_modules is missing: .ci/run installs it (npm ci)"
    );
    if !installed {
        eprintln!("skipped: run `npm ci` in tests/oidc to test OIDC");
    }
    installed
}

impl Provider {
    /// Starts the provider signing with the key in `keys` (made when missing), on `port` or a free
    /// one; with `redirect`, people sign in too, returning there (the client `fathom-web`).
    pub(super) fn start(keys: &std::path::Path, port: Option<u16>, redirect: Option<&str>) -> Self {
        use std::io::BufRead;
        let mut command = std::process::Command::new("node");
        command
            .current_dir(OIDC_DIR)
            .arg("provider.mjs")
            .arg("serve")
            .arg(keys);
        command.arg(port.unwrap_or(0).to_string());
        if let Some(redirect) = redirect {
            command.arg(redirect);
        }
        let mut process = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs tests/oidc/provider.mjs");
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(process.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        // What it says later (its login pages log) is read, lest it write to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let issuer = line
            .strip_prefix("issuer ")
            .unwrap_or_else(|| panic!("the provider did not start: {line}"))
            .trim()
            .to_owned();
        Self {
            process,
            issuer,
            keys: keys.to_owned(),
        }
    }

    fn port(&self) -> u16 {
        self.issuer.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// A token of the provider for the client `user`, by the client-credentials grant.
    async fn token(&self, user: &str) -> String {
        let answer: Value = http()
            .post(format!("{}/token", self.issuer))
            .basic_auth(user, Some(format!("{user}-secret")))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=api")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {answer}"))
            .to_owned()
    }

    /// A token signed with the key in `keys` (or forged, for `alg` `none` or `HS256-public`).
    fn mint(keys: &std::path::Path, claims: &Value, alg: Option<&str>) -> String {
        let mut command = std::process::Command::new("node");
        command
            .current_dir(OIDC_DIR)
            .arg("provider.mjs")
            .arg("mint")
            .arg(keys)
            .arg(claims.to_string());
        if let Some(alg) = alg {
            command.arg(alg);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// OIDC against a real provider: good tokens become principals with their claims; expired, not yet
/// valid, wrong audience, wrong issuer, unknown key, unsigned, HMAC-with-the-public-key and tampered
/// tokens are refused; a rotated key is fetched when first seen, and the retired one stops working.
async fn oidc_tokens_from_a_real_provider(db: TestStore) {
    if !provider_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (first_keys, second_keys) = (
        dir.path().join("first.json"),
        dir.path().join("second.json"),
    );
    let provider = Provider::start(&first_keys, None, None);
    let issuer = provider.issuer.clone();
    let mut config = fathom_service::OidcConfig::new(&issuer).with_audience("urn:fathom:api");
    config.refresh_interval = std::time::Duration::from_millis(100);
    let server = TestApp::start_with(
        db,
        |settings| {
            settings.authentication_ttl = std::time::Duration::from_millis(100);
            settings.oidc = Some(config);
        },
        // Every forgery below is a failed authentication from this one address.
        |config| config.rate_limits.failures_per_address = 0,
    )
    .await;
    let me = |token: String| {
        let server = &server;
        async move {
            server
                .request(Method::GET, "/api/v1/me", Some(&token))
                .send()
                .await
                .unwrap()
        }
    };

    let good = provider.token("analyst").await;
    let answer = me(good.clone()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let seen: Value = answer.json().await.unwrap();
    assert_eq!(seen["username"], "analyst");
    assert_eq!(seen["authenticated_by"], "oidc");
    assert_eq!(seen["clearance"], "NATO SECRET");
    assert_eq!(seen["nationality"], "NOR");
    assert_eq!(
        seen["memberships"],
        json!([{"organisation": "cmre", "role": "steward"}])
    );
    let visitor: Value = me(provider.token("visitor").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (visitor["username"].as_str(), visitor["role"].as_str()),
        (Some("visitor"), Some("viewer"))
    );

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = |changes: Value| {
        let mut claims = json!({"sub": "mallory", "iss": issuer, "aud": "urn:fathom:api",
                                "iat": now, "exp": now + 300, "fathom_role": "admin"});
        for (key, value) in changes.as_object().unwrap() {
            claims[key] = value.clone();
        }
        claims
    };
    let minted = Provider::mint(
        &first_keys,
        &claims(json!({"fathom_role": ["viewer", "editor"]})),
        None,
    );
    let control = me(minted).await;
    assert_eq!(
        control.status(),
        StatusCode::OK,
        "the control: a well-minted token passes"
    );
    let control: Value = control.json().await.unwrap();
    assert_eq!(
        control["role"], "editor",
        "the most powerful role of an array"
    );
    let payload = good.split('.').nth(1).unwrap();
    let tampered_payload = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(payload).unwrap()).unwrap();
        claims["fathom_role"] = json!("admin");
        engine.encode(claims.to_string())
    };
    let bad = [
        (
            "expired",
            Provider::mint(&first_keys, &claims(json!({"exp": now - 120})), None),
        ),
        (
            "not yet valid",
            Provider::mint(&first_keys, &claims(json!({"nbf": now + 300})), None),
        ),
        (
            "issued in the future",
            Provider::mint(&first_keys, &claims(json!({"iat": now + 300})), None),
        ),
        (
            "wrong audience",
            Provider::mint(&first_keys, &claims(json!({"aud": "urn:other"})), None),
        ),
        (
            "wrong issuer",
            Provider::mint(
                &first_keys,
                &claims(json!({"iss": "http://127.0.0.1:1"})),
                None,
            ),
        ),
        (
            "unknown key",
            Provider::mint(&second_keys, &claims(json!({})), None),
        ),
        (
            "alg none",
            Provider::mint(&first_keys, &claims(json!({})), Some("none")),
        ),
        (
            "HS256 with the public key",
            Provider::mint(&first_keys, &claims(json!({})), Some("HS256-public")),
        ),
        ("tampered", good.replace(payload, &tampered_payload)),
        ("not a token", "a.b.c".to_owned()),
    ];
    for (what, token) in bad {
        problem(me(token).await, StatusCode::UNAUTHORIZED).await;
        eprintln!("refused: {what}");
    }

    // Rotation: the provider comes back on the same address signing with the second key.
    let port = provider.port();
    drop(provider);
    let rotated = Provider::start(&second_keys, Some(port), None);
    assert_eq!(rotated.issuer, issuer);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let fresh = rotated.token("analyst").await;
    assert_eq!(
        me(fresh).await.status(),
        StatusCode::OK,
        "the new key is fetched"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    problem(me(good).await, StatusCode::UNAUTHORIZED).await;
    let _ = rotated.keys;
}
