//! The HTTP API end to end: a real server on a loopback port, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use fathom_api::{ApiConfig, AppState};
use fathom_model::{Membership, OrganisationRole, Role, Slug};
use fathom_service::{
    DEFAULT_CACHE_ENTRIES, Identity, IndexSettings, NewUser, Search, ServiceSettings, Services,
};
use fathom_store::testing::{TestStore, dataset};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH, LINK, LOCATION};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

fathom_store::on_both_backends!(
    health_and_request_ids,
    datasets_live_through_their_revisions,
    bad_input_is_refused_with_a_pointer_and_writes_nothing,
    writes_need_a_token_with_the_right_role,
    lists_page_by_cursor_with_filters,
    idempotency_keys_replay_the_first_response,
    distributions_are_a_sub_resource,
    organisations_are_managed_by_admins,
    the_domain_model_is_managed_and_referenced,
    lineage_versions_and_history_respect_visibility,
    vocabularies_control_values_and_widen_searches,
    profiles_are_versioned_checked_for_compatibility_and_enforced,
    the_api_describes_itself,
    search_finds_by_words_place_time_and_filters,
    ogc_api_records_serves_the_catalogue,
    datasets_and_the_catalogue_speak_dcat_ap,
    oai_pmh_harvests_what_the_caller_may_see,
    imports_are_idempotent_and_report_each_record,
    harvesting_reconciles_a_changing_source,
    harvesting_reads_ckan_portals_and_csw_catalogues,
    sparql_sees_only_what_its_caller_may_see,
    security_labels_are_parsed_and_guarded,
    a_label_change_is_audited_only_when_it_commits,
    no_read_path_shows_what_its_reader_may_not_see,
    tokens_are_trusted_for_a_bounded_time,
    browsers_get_security_headers_and_cors_for_allowed_origins,
    failed_authentications_are_rate_limited,
    users_and_tokens_are_managed_by_admins,
    oidc_tokens_from_a_real_provider,
    metrics_count_requests_by_route_template,
    events_are_described_and_their_targets_reported,
    webhooks_deliver_signed_events_their_owner_may_see,
    access_is_requested_approved_granted_and_ends,
    agreements_yield_and_revoke_grants,
    publication_is_reviewed_where_the_domain_asks,
    labels_are_widened_only_by_release,
);

const BODY_LIMIT: usize = 64 * 1024;

/// An HTTP client. (reqwest takes its TLS provider from the process, as Fathom's OIDC client does.)
fn http() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new()
}
/// Failed authentications the test server allows per minute and address.
const FAILURES_PER_MINUTE: u32 = 5;
/// The one browser origin the test server allows.
const PORTAL: &str = "https://portal.example.org";

struct Server {
    base: String,
    search: Search,
    _index_dir: tempfile::TempDir,
    client: Client,
    admin: String,
    editor: String,
    viewer: String,
    identity: Identity,
    /// The use cases the server was built with (for the background tasks a test runs).
    services: Services,
    db: TestStore,
}

impl Server {
    async fn start(db: TestStore) -> Self {
        Self::start_with(db, |_| {}, |_| {}).await
    }

    /// A server whose use cases' and HTTP settings are changed first (e.g. to accept OIDC tokens).
    async fn start_with(
        db: TestStore,
        adapt: impl FnOnce(&mut ServiceSettings),
        adapt_config: impl FnOnce(&mut ApiConfig),
    ) -> Self {
        let index_dir = tempfile::tempdir().unwrap();
        let policy = std::sync::Arc::new(fathom_model::Policy::default_policy());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut settings = ServiceSettings {
            index: Some(IndexSettings {
                data_dir: index_dir.path().to_owned(),
                cache_entries: DEFAULT_CACHE_ENTRIES,
            }),
            site: fathom_api::Site {
                base: base.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        adapt(&mut settings);
        let services = Services::new(db.store.clone(), policy, settings).unwrap();
        let state = AppState::new(services.clone()).unwrap();
        let search = state.search.clone();
        let token = |name: &'static str, role| {
            let identity = state.identity.clone();
            async move {
                identity
                    .create_token(name, role, "", None)
                    .await
                    .unwrap()
                    .secret
            }
        };
        let (admin, editor, viewer) = (
            token("root", Role::Admin).await,
            token("ed", Role::Editor).await,
            token("vi", Role::Viewer).await,
        );
        let identity = state.identity.clone();
        let mut config = ApiConfig {
            body_limit: BODY_LIMIT,
            cors_origins: vec![reqwest::header::HeaderValue::from_static(PORTAL)],
            strict_transport_security: false,
            rate_limits: fathom_api::RateLimits {
                failures_per_address: FAILURES_PER_MINUTE,
                ..Default::default()
            },
            metrics: true,
            access_log: true,
        };
        adapt_config(&mut config);
        let app = fathom_api::app(state, &config);
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
        });
        Self {
            base,
            search,
            _index_dir: index_dir,
            client: http(),
            admin,
            editor,
            viewer,
            identity,
            services,
            db,
        }
    }

    /// A token of a new user with this clearance, nationality and communities.
    async fn cleared_token(&self, user: NewUser) -> String {
        let name = user.name.clone();
        self.identity.create_user(user).await.unwrap();
        self.identity
            .create_token(&name, Role::Viewer, "", None)
            .await
            .unwrap()
            .secret
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path, None).send().await.unwrap()
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.request(method, path, Some(token))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Deletes the record at `path` as the admin, at revision 1.
    async fn delete_first_revision(&self, path: &str) -> reqwest::Response {
        self.request(Method::DELETE, path, Some(&self.admin))
            .header(IF_MATCH, "\"1\"")
            .send()
            .await
            .unwrap()
    }

    /// Changes the record at `path` with a JSON Merge Patch as the admin, at revision 1.
    async fn patch_first_revision(&self, path: &str, patch: &str) -> reqwest::Response {
        self.request(Method::PATCH, path, Some(&self.admin))
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .header(IF_MATCH, "\"1\"")
            .body(patch.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn with_organisation(&self, slug: &str) {
        let body = json!({"slug": slug, "name": format!("Org {slug}"), "nation": "ITA"});
        let response = self
            .send_json(Method::POST, "/api/v1/organisations", &self.admin, &body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    async fn dataset_count(&self) -> usize {
        let page: Value = self
            .get("/api/v1/datasets?limit=1000")
            .await
            .json()
            .await
            .unwrap();
        page["items"].as_array().unwrap().len()
    }
}

/// Asserts an RFC 9457 problem with this status, and returns it.
async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "{:?}", response.headers());
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:fathom:problem:"),
        "{body}"
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

fn pointers(problem: &Value) -> Vec<String> {
    let errors = problem["errors"].as_array().map_or(&[][..], Vec::as_slice);
    errors
        .iter()
        .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
        .collect()
}

fn ctd(organisation: &str, title: &str) -> Value {
    json!({
        "title": title,
        "organisation": organisation,
        "keywords": ["CTD", "Ligurian Sea"],
        "spatial": {"bbox": [8.0, 43.0, 10.5, 44.5]},
        "temporal": {"start": "2024-04-01", "end": "2024-04-20T12:00:00Z"},
        "license": "CC-BY-4.0",
    })
}

async fn health_and_request_ids(db: TestStore) {
    let server = Server::start(db).await;
    let response = server.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 36, "a UUID is generated: {generated}");
    let ready: Value = server.get("/readyz").await.json().await.unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["search_lag"].as_i64()),
        (Some("ready"), Some(0))
    );
    let response = server
        .request(Method::GET, "/healthz", None)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    server.db.store.close().await;
    problem(server.get("/readyz").await, StatusCode::SERVICE_UNAVAILABLE).await;
}

async fn datasets_live_through_their_revisions(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let response = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.editor,
            &ctd("cmre", "CTD casts, Ligurian Sea 2024"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[ETAG], "\"1\"");
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["slug"], "ctd-casts-ligurian-sea-2024");
    assert_eq!(created["state"], "published");
    assert_eq!(created["temporal"]["start"], "2024-04-01T00:00:00Z");
    assert_eq!(
        location,
        format!("/api/v1/datasets/{}", created["id"].as_str().unwrap())
    );

    let by_slug: Value = server
        .get("/api/v1/datasets/ctd-casts-ligurian-sea-2024")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_slug, created);
    let cached = server
        .request(Method::GET, &location, None)
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    let mut changed = ctd("cmre", "CTD casts, Ligurian Sea 2024 (QC)");
    problem(
        server
            .send_json(Method::PUT, &location, &server.editor, &changed)
            .await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    let stale = server
        .request(Method::PUT, &location, Some(&server.editor))
        .header(IF_MATCH, "\"7\"")
        .json(&changed)
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    changed["keywords"] = json!(["ctd"]);
    let response = server
        .request(Method::PUT, &location, Some(&server.editor))
        .header(IF_MATCH, "\"1\"")
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[ETAG], "\"2\"");
    let replaced: Value = response.json().await.unwrap();
    assert_eq!(
        replaced["slug"], "ctd-casts-ligurian-sea-2024",
        "a PUT without a slug keeps it"
    );
    assert_eq!(replaced["created_at"], created["created_at"]);

    let patch =
        json!({"description": "Quality-controlled.", "license": null, "state": "deprecated"});
    let response = server
        .request(Method::PATCH, &location, Some(&server.editor))
        .header(IF_MATCH, "\"2\"")
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(
        (patched["revision"].as_i64(), patched["state"].as_str()),
        (Some(3), Some("deprecated"))
    );
    assert_eq!(patched["description"], "Quality-controlled.");
    assert!(patched.get("license").is_none(), "null removes: {patched}");
    assert_eq!(
        patched["keywords"],
        json!(["ctd"]),
        "untouched members stay"
    );

    let stale_delete = server
        .request(Method::DELETE, &location, Some(&server.editor))
        .header(IF_MATCH, "\"2\"")
        .send()
        .await
        .unwrap();
    problem(stale_delete, StatusCode::PRECONDITION_FAILED).await;
    let deleted = server
        .request(Method::DELETE, &location, Some(&server.editor))
        .header(IF_MATCH, "\"3\"")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    problem(server.get(&location).await, StatusCode::NOT_FOUND).await;

    let history: Value = server
        .get(&format!("{location}/revisions"))
        .await
        .json()
        .await
        .unwrap();
    let operations: Vec<_> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        operations,
        [
            (1, "created".into()),
            (2, "updated".into()),
            (3, "updated".into()),
            (4, "deleted".into())
        ]
    );
    let first: Value = server
        .get(&format!("{location}/revisions/1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["snapshot"], created);
    problem(
        server.get(&format!("{location}/revisions/9")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn bad_input_is_refused_with_a_pointer_and_writes_nothing(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let post = |body: Vec<u8>| {
        server
            .request(Method::POST, "/api/v1/datasets", Some(&server.editor))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    let malformed = problem(
        post(b"{\"title\": ".to_vec()).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(malformed["type"], "urn:fathom:problem:malformed-json");
    problem(
        post(b"{\"title\": \"caf\xe9\", \"organisation\": \"cmre\"}".to_vec())
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let too_big =
        json!({"title": "x", "organisation": "cmre", "description": "a".repeat(BODY_LIMIT)});
    problem(
        post(too_big.to_string().into_bytes()).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let form = server
        .request(Method::POST, "/api/v1/datasets", Some(&server.editor))
        .header(CONTENT_TYPE, "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(form, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let cases: [(Value, &[&str]); 7] = [
        (json!({"title": 5, "organisation": "cmre"}), &["/title"]),
        (json!({"organisation": "cmre"}), &["/title"]),
        (
            json!({"title": "x", "organisation": "cmre", "colour": "red"}),
            &["/colour"],
        ),
        (
            json!({"title": "x", "organisation": "cmre", "spatial": {"bbox": [0, -95, 10, 10]}, "temporal": {"start": "2024-05-01", "end": "2024-04-01"}}),
            &["/spatial/bbox", "/temporal/end"],
        ),
        (
            json!({"title": "x", "organisation": "cmre", "state": "archived", "issued": "yesterday"}),
            &["/issued", "/state"],
        ),
        (
            json!({"title": "x", "organisation": "nobody"}),
            &["/organisation"],
        ),
        (
            json!({"title": "x", "organisation": "cmre", "distributions": [{"title": "no url"}]}),
            &["/distributions/0/access_url"],
        ),
    ];
    for (body, expected) in cases {
        let refused = problem(
            post(body.to_string().into_bytes()).await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let mut found = pointers(&refused);
        found.sort_unstable();
        assert_eq!(found, expected, "{body} → {refused}");
    }

    let ok = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.editor,
            &json!({"title": "Kept", "organisation": "cmre", "slug": "kept"}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let duplicate = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.editor,
            &json!({"title": "Other", "organisation": "cmre", "slug": "kept"}),
        )
        .await;
    assert_eq!(
        pointers(&problem(duplicate, StatusCode::CONFLICT).await),
        ["/slug"]
    );
    let derived = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.editor,
            &json!({"title": "Kept", "organisation": "cmre"}),
        )
        .await;
    assert_eq!(
        derived.json::<Value>().await.unwrap()["slug"],
        "kept-2",
        "a derived slug is made unique"
    );

    for query in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "cursor=forged",
        "cursor=AQ",
        "modified_since=last-week",
        "colour=red",
    ] {
        problem(
            server.get(&format!("/api/v1/datasets?{query}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let invalid_patch = server
        .request(Method::PATCH, "/api/v1/datasets/kept", Some(&server.editor))
        .header(IF_MATCH, "*")
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(json!({"spatial": {"bbox": [0, 0, 200, 10]}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        pointers(&problem(invalid_patch, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/spatial/bbox"]
    );
    problem(
        server
            .request(Method::PUT, "/api/v1/datasets", Some(&server.editor))
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    problem(server.get("/api/v2/nothing").await, StatusCode::NOT_FOUND).await;

    assert_eq!(
        server.dataset_count().await,
        2,
        "only the two valid datasets were written"
    );
    let kept: Value = server
        .get("/api/v1/datasets/kept")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["revision"], 1, "the refused patch changed nothing");
}

async fn writes_need_a_token_with_the_right_role(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let body = ctd("cmre", "Glider mission");
    let anonymous = server
        .request(Method::POST, "/api/v1/datasets", None)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"fathom\""
    );
    problem(anonymous, StatusCode::UNAUTHORIZED).await;
    let forged = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            "fthm_not-a-real-token",
            &body,
        )
        .await;
    problem(forged, StatusCode::UNAUTHORIZED).await;
    problem(
        server
            .send_json(Method::POST, "/api/v1/datasets", &server.viewer, &body)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let org = json!({"slug": "nhs", "name": "NHS", "nation": "NOR"});
    problem(
        server
            .send_json(Method::POST, "/api/v1/organisations", &server.editor, &org)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(server.dataset_count().await, 0);
    assert_eq!(
        server
            .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        server.get("/api/v1/datasets/glider-mission").await.status(),
        StatusCode::OK,
        "reads are open"
    );
}

async fn lists_page_by_cursor_with_filters(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    server.with_organisation("nhs").await;
    let records: Vec<_> = (0..11)
        .map(|i| dataset(if i < 7 { "cmre" } else { "nhs" }, &format!("Record {i}")))
        .collect();
    server
        .db
        .store
        .insert_datasets(&records, "loader")
        .await
        .unwrap();

    let mut titles = Vec::new();
    let mut next = Some("/api/v1/datasets?organisation=cmre&limit=3".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let response = server.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK);
        let link = response
            .headers()
            .get(LINK)
            .map(|l| l.to_str().unwrap().to_owned());
        let page: Value = response.json().await.unwrap();
        next = page["next"].as_str().map(str::to_owned);
        assert_eq!(link, next.as_ref().map(|n| format!("<{n}>; rel=\"next\"")));
        titles.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["title"].as_str().unwrap().to_owned()),
        );
        pages += 1;
    }
    assert_eq!(pages, 3, "7 records in pages of 3");
    assert_eq!(
        titles,
        (0..7).map(|i| format!("Record {i}")).collect::<Vec<_>>()
    );
    let page: Value = server
        .get("/api/v1/datasets?keyword=ctd&organisation=nhs")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    assert!(page.get("next").is_none());
    let future: Value = server
        .get("/api/v1/datasets?modified_since=2999-01-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(future["items"], json!([]));

    // A list of changes pages in order of change, and keeps its own cursors.
    let mut seen = std::collections::HashSet::new();
    let mut next = Some("/api/v1/datasets?modified_since=2000-01-01&limit=4".to_owned());
    while let Some(path) = next {
        let page: Value = server.get(&path).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_owned()),
                "no record twice"
            );
        }
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 11);
    let first: Value = server
        .get("/api/v1/datasets?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let creation_cursor = first["next"]
        .as_str()
        .unwrap()
        .split("cursor=")
        .nth(1)
        .unwrap()
        .to_owned();
    let mixed = server
        .get(&format!(
            "/api/v1/datasets?modified_since=2000-01-01&cursor={creation_cursor}"
        ))
        .await;
    problem(mixed, StatusCode::BAD_REQUEST).await;
}

async fn idempotency_keys_replay_the_first_response(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let post = |body: Value| {
        server
            .request(Method::POST, "/api/v1/datasets", Some(&server.editor))
            .header("idempotency-key", "order-66")
            .json(&body)
            .send()
    };
    let first = post(ctd("cmre", "ADCP moorings")).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = post(ctd("cmre", "ADCP moorings")).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    problem(
        post(ctd("cmre", "Something else")).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(server.dataset_count().await, 1);
}

async fn distributions_are_a_sub_resource(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.editor,
            &json!({"title": "Sonar", "organisation": "cmre"}),
        )
        .await;
    let base = "/api/v1/datasets/sonar/distributions";
    let netcdf = json!({"title": "NetCDF", "access_url": "https://data.example.org/sonar.nc", "format": "NetCDF"});
    let added = server
        .send_json(Method::POST, base, &server.editor, &netcdf)
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    assert_eq!(added.headers()[ETAG], "\"2\"");
    let location = added.headers()[LOCATION].to_str().unwrap().to_owned();
    let distribution: Value = added.json().await.unwrap();
    assert!(location.ends_with(distribution["id"].as_str().unwrap()));
    assert_eq!(
        server.get(&location).await.json::<Value>().await.unwrap(),
        distribution
    );

    let mut renamed = netcdf.clone();
    renamed["title"] = json!("NetCDF-4");
    problem(
        server
            .send_json(Method::PUT, &location, &server.editor, &renamed)
            .await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    let replaced = server
        .request(Method::PUT, &location, Some(&server.editor))
        .header(IF_MATCH, "\"2\"")
        .json(&renamed)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::OK);
    let bad = server.send_json(Method::POST, base, &server.editor, &json!({"title": "x", "access_url": "not a url", "checksum": {"algorithm": "crc32", "value": "zz"}})).await;
    let mut found = pointers(&problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await);
    found.sort_unstable();
    assert_eq!(found, ["/access_url", "/checksum/algorithm"]);

    let dataset: Value = server
        .get("/api/v1/datasets/sonar")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dataset["revision"], 3);
    assert_eq!(dataset["distributions"][0]["title"], "NetCDF-4");
    assert_eq!(
        server
            .request(Method::DELETE, &location, Some(&server.editor))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(server.get(&location).await, StatusCode::NOT_FOUND).await;
    problem(
        server.get(&format!("{base}/not-a-uuid")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list: Value = server.get(base).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
}

async fn organisations_are_managed_by_admins(db: TestStore) {
    let server = Server::start(db).await;
    let org = json!({"slug": "cmre", "name": "Centre for Maritime Research", "nation": "ITA"});
    let created = server
        .send_json(Method::POST, "/api/v1/organisations", &server.admin, &org)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let duplicate = server
        .send_json(Method::POST, "/api/v1/organisations", &server.admin, &org)
        .await;
    assert_eq!(
        pointers(&problem(duplicate, StatusCode::CONFLICT).await),
        ["/slug"]
    );
    let invalid = server
        .send_json(
            Method::POST,
            "/api/v1/organisations",
            &server.admin,
            &json!({"slug": "X Y", "name": "", "nation": "Italy"}),
        )
        .await;
    assert_eq!(
        pointers(&problem(invalid, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/slug", "/name", "/nation"]
    );

    let renamed = server
        .request(
            Method::PATCH,
            "/api/v1/organisations/cmre",
            Some(&server.admin),
        )
        .header(IF_MATCH, "\"1\"")
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(json!({"name": "CMRE"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.json::<Value>().await.unwrap()["name"], "CMRE");
    let moved = server
        .request(
            Method::PUT,
            "/api/v1/organisations/cmre",
            Some(&server.admin),
        )
        .header(IF_MATCH, "\"2\"")
        .json(&json!({"slug": "other", "name": "CMRE", "nation": "ITA"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pointers(&problem(moved, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/slug"]
    );

    server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.editor,
            &ctd("cmre", "Held"),
        )
        .await;
    let busy = server
        .request(
            Method::DELETE,
            "/api/v1/organisations/cmre",
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap();
    problem(busy, StatusCode::CONFLICT).await;
    server
        .request(
            Method::DELETE,
            "/api/v1/datasets/held",
            Some(&server.editor),
        )
        .send()
        .await
        .unwrap();
    let gone = server
        .request(
            Method::DELETE,
            "/api/v1/organisations/cmre",
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let list: Value = server
        .get("/api/v1/organisations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
}

async fn the_domain_model_is_managed_and_referenced(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let vessel = json!({"slug": "rv-alliance", "name": "NRV Alliance", "platform_type": "research_vessel",
        "identifiers": [{"scheme": "ices", "value": "48A5"}]});
    let created = server
        .send_json(Method::POST, "/api/v1/platforms", &server.editor, &vessel)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()[ETAG], "\"1\"");
    let location = created.headers()[LOCATION].to_str().unwrap().to_owned();
    let platform: Value = created.json().await.unwrap();
    assert_eq!(platform["type"], "platform");
    assert_eq!(
        location,
        format!("/api/v1/platforms/{}", platform["id"].as_str().unwrap())
    );
    let by_id: Value = server.get(&location).await.json().await.unwrap();
    assert_eq!(by_id, platform);

    // Who may write what, and bad input.
    let refused = server
        .send_json(Method::POST, "/api/v1/platforms", &server.viewer, &vessel)
        .await;
    problem(refused, StatusCode::FORBIDDEN).await;
    let domain = json!({"slug": "oceanography", "name": "Oceanography", "stewards": ["ed"]});
    let refused = server
        .send_json(Method::POST, "/api/v1/domains", &server.editor, &domain)
        .await;
    problem(refused, StatusCode::FORBIDDEN).await;
    let made = server
        .send_json(Method::POST, "/api/v1/domains", &server.admin, &domain)
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let duplicate = server
        .send_json(Method::POST, "/api/v1/platforms", &server.editor, &vessel)
        .await;
    assert_eq!(
        pointers(&problem(duplicate, StatusCode::CONFLICT).await),
        ["/slug"]
    );
    let mistyped = server
        .send_json(Method::POST, "/api/v1/platforms", &server.editor,
            &json!({"slug": "x", "name": "X", "type": "instrument", "platform_type": "auv", "colour": 1}))
        .await;
    let mistyped = problem(mistyped, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(pointers(&mistyped), ["/type", "/colour"], "{mistyped}");
    let dangling = server
        .send_json(Method::POST, "/api/v1/instruments", &server.editor,
            &json!({"slug": "ctd-1", "name": "CTD", "mounted_on": [{"platform": "rv-alliance"}, {"platform": "rv-nowhere"}]}))
        .await;
    let dangling = problem(dangling, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(pointers(&dangling), ["/mounted_on/1/platform"]);
    assert!(
        dangling
            .to_string()
            .contains("no platform has the slug `rv-nowhere`"),
        "{dangling}"
    );
    let empty: Value = server
        .get("/api/v1/instruments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["items"], json!([]), "nothing half-written");
    let instrument = json!({"slug": "ctd-1", "name": "CTD", "model": "SBE 911plus",
        "mounted_on": [{"platform": "rv-alliance", "period": {"start": "2024-04-01T00:00:00Z"}}]});
    let made = server
        .send_json(
            Method::POST,
            "/api/v1/instruments",
            &server.editor,
            &instrument,
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let property = json!({"slug": "sea-water-temperature", "name": "Sea water temperature", "unit": "Cel",
        "concept": "http://vocab.nerc.ac.uk/standard_name/sea_water_temperature/"});
    let made = server
        .send_json(
            Method::POST,
            "/api/v1/observed-properties",
            &server.editor,
            &property,
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);

    // Datasets refer to entities that exist.
    let mut body = ctd("cmre", "CTD casts");
    body["domain"] = json!("oceanography");
    body["platforms"] = json!(["rv-alliance"]);
    body["instruments"] = json!(["ctd-1"]);
    body["observed_properties"] = json!(["salinity"]);
    let refused = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(
        pointers(&problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/observed_properties/0"]
    );
    body["observed_properties"] = json!(["sea-water-temperature"]);
    let made = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let dataset: Value = made.json().await.unwrap();
    assert_eq!(dataset["platforms"], json!(["rv-alliance"]));
    assert_eq!(dataset["domain"], "oceanography");
    let mut other = ctd("cmre", "Glider sections");
    other["platforms"] = json!(["rv-alliance"]);
    let made = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &other)
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    server.search.catch_up().await.unwrap();
    let found: Value = server
        .get("/api/v1/search?platform=rv-alliance&domain=oceanography&facets=platform,domain,observed_property")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["slug"], "ctd-casts");
    assert_eq!(
        found["facets"]["platform"],
        json!([{"value": "rv-alliance", "count": 1}])
    );
    assert_eq!(
        found["facets"]["observed_property"],
        json!([{"value": "sea-water-temperature", "count": 1}])
    );
    let found: Value = server
        .get("/api/v1/search?platform=rv-alliance&facets=domain")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(
        found["facets"]["domain"],
        json!([{"value": "oceanography", "count": 1}])
    );
    server
        .delete_first_revision("/api/v1/datasets/glider-sections")
        .await;

    // Changes make revisions; the slug stays.
    let renamed = server
        .patch_first_revision(
            "/api/v1/platforms/rv-alliance",
            r#"{"name": "NATO Research Vessel Alliance"}"#,
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(renamed.headers()[ETAG], "\"2\"");
    let stale = server
        .patch_first_revision("/api/v1/platforms/rv-alliance", r#"{"name": "Again"}"#)
        .await;
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let moved = server
        .request(
            Method::PUT,
            "/api/v1/platforms/rv-alliance",
            Some(&server.editor),
        )
        .header(IF_MATCH, "\"2\"")
        .json(&json!({"slug": "rv-other", "name": "X", "platform_type": "research_vessel"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pointers(&problem(moved, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/slug"]
    );
    let revisions: Value = server
        .get("/api/v1/platforms/rv-alliance/revisions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revisions["items"].as_array().unwrap().len(), 2);
    let first: Value = server
        .get("/api/v1/platforms/rv-alliance/revisions/1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["snapshot"]["name"], "NRV Alliance");
    let diff: Value = server
        .get("/api/v1/platforms/rv-alliance/revisions/1/diff/2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(diff["fields_updated"], json!(["name"]), "{diff}");
    let then = server
        .get("/api/v1/platforms/rv-alliance?as_of=2100-01-01")
        .await;
    assert_eq!(
        then.headers()[reqwest::header::CONTENT_LOCATION],
        format!("{location}/revisions/2").as_str()
    );
    problem(
        server
            .get("/api/v1/platforms/rv-alliance?as_of=2001-01-01")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // What is referred to cannot be deleted; once free, it can.
    let busy = server
        .delete_first_revision("/api/v1/observed-properties/sea-water-temperature")
        .await;
    let busy = problem(busy, StatusCode::CONFLICT).await;
    assert!(
        busy["detail"]
            .as_str()
            .unwrap()
            .contains("still referred to"),
        "{busy}"
    );
    let still: Value = server
        .get("/api/v1/observed-properties/sea-water-temperature")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["revision"], 1);
    server
        .delete_first_revision("/api/v1/datasets/ctd-casts")
        .await;
    let delete_platform = || {
        server
            .request(
                Method::DELETE,
                "/api/v1/platforms/rv-alliance",
                Some(&server.editor),
            )
            .send()
    };
    problem(delete_platform().await.unwrap(), StatusCode::CONFLICT).await;
    let gone = server
        .delete_first_revision("/api/v1/instruments/ctd-1")
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let gone = delete_platform().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    problem(
        server.get("/api/v1/platforms/rv-alliance").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let history: Value = server
        .get(&format!("{location}/revisions"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"][2]["operation"], "deleted", "{history}");

    let spec: Value = server
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let read = &spec["paths"]["/api/v1/observed-properties/{key}"]["get"];
    assert_eq!(read["operationId"], "observed_properties_read");
    assert!(!read.to_string().contains("\"collection\""), "{read}");
    assert!(spec["paths"]["/api/v1/domains/{key}/revisions/{revision}"].is_object());
    assert!(spec["paths"]["/api/v1/{collection}"].is_null());
}

async fn lineage_versions_and_history_respect_visibility(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let create = |title: &str, extra: Value| {
        let mut body = ctd("cmre", title);
        for (name, value) in extra.as_object().unwrap() {
            body[name] = value.clone();
        }
        let server = &server;
        async move {
            let created = server
                .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
                .await;
            assert_eq!(created.status(), StatusCode::CREATED);
            created.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // raw → (secret) calibrated → gridded → maps; gridded also from a bathymetry.
    let raw = create("Raw casts", json!({})).await;
    let secret = create(
        "Calibrated casts",
        json!({"was_derived_from": [raw],
        "security_label": {"classification": "NATO SECRET"}}),
    )
    .await;
    let bathymetry = create("Bathymetry", json!({})).await;
    let gridded = create("Gridded fields", json!({"was_derived_from": [secret, bathymetry],
        "was_generated_by": {"label": "Gridding to 0.1 degrees", "software": "fathom-grid", "software_version": "1.2",
            "parameters": {"resolution": 0.1}, "started_at": "2024-05-01T08:00:00Z", "ended_at": "2024-05-01T09:00:00Z"}})).await;
    let maps = create("Temperature maps", json!({"was_derived_from": [gridded]})).await;

    let lineage: Value = server
        .get(&format!("/api/v1/datasets/{gridded}/lineage"))
        .await
        .json()
        .await
        .unwrap();
    let nodes = lineage["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5, "{lineage}");
    let text = lineage.to_string();
    assert!(
        !text.contains("Calibrated") && !text.contains(&secret),
        "nothing of the secret dataset: {text}"
    );
    assert!(
        text.contains(&raw),
        "what lies beyond a hidden dataset is still shown: {text}"
    );
    let hidden = nodes.iter().find(|n| n["redacted"] == true).unwrap();
    assert_eq!(hidden["id"], "redacted-1");
    assert_eq!(hidden["distance"], -1);
    let edges = lineage["edges"].as_array().unwrap();
    assert!(edges.contains(&json!({"from": gridded, "to": "redacted-1"})));
    assert!(edges.contains(&json!({"from": "redacted-1", "to": raw})));
    assert!(edges.contains(&json!({"from": maps, "to": gridded})));
    let root = nodes.iter().find(|n| n["id"] == gridded.as_str()).unwrap();
    assert_eq!(root["was_generated_by"]["software"], "fathom-grid");
    // No read path shows the id of a dataset the reader may not see, not even in a link.
    let record = server
        .get(&format!("/api/v1/datasets/{gridded}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !record.contains(&secret) && record.contains(&bathymetry),
        "{record}"
    );
    let listed = server
        .get("/api/v1/datasets?limit=100")
        .await
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(&secret), "{listed}");
    let revision = server
        .get(&format!("/api/v1/datasets/{gridded}/revisions/1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !revision.contains(&secret) && revision.contains(&bathymetry),
        "{revision}"
    );
    // A writer who cannot see a source keeps it: what they could not see, they did not remove.
    let retitled = server
        .request(
            Method::PATCH,
            &format!("/api/v1/datasets/{gridded}"),
            Some(&server.editor),
        )
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .header(IF_MATCH, "\"1\"")
        .body(json!({"description": "On a 0.1 degree grid"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(retitled.status(), StatusCode::OK);
    let kept: Value = server
        .request(
            Method::GET,
            &format!("/api/v1/datasets/{gridded}"),
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        kept["was_derived_from"],
        json!([secret, bathymetry]),
        "{kept}"
    );
    let admin_view: Value = server
        .request(
            Method::GET,
            &format!("/api/v1/datasets/{gridded}/lineage?direction=upstream&depth=1"),
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: BTreeSet<&str> = admin_view["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        BTreeSet::from(["Bathymetry", "Calibrated casts", "Gridded fields"])
    );
    for bad in ["direction=sideways", "depth=0", "depth=21", "depth=x"] {
        problem(
            server
                .get(&format!("/api/v1/datasets/{gridded}/lineage?{bad}"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    // Cycles, self-references and unknown or invisible sources are refused, nothing written.
    let cyclic = server
        .request(
            Method::PATCH,
            &format!("/api/v1/datasets/{raw}"),
            Some(&server.admin),
        )
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .header(IF_MATCH, "\"1\"")
        .body(json!({"was_derived_from": [maps]}).to_string())
        .send()
        .await
        .unwrap();
    let cyclic = problem(cyclic, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(cyclic.to_string().contains("cycle"), "{cyclic}");
    let itself = server
        .request(
            Method::PATCH,
            &format!("/api/v1/datasets/{raw}"),
            Some(&server.admin),
        )
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .header(IF_MATCH, "\"1\"")
        .body(json!({"previous_version": raw}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        pointers(&problem(itself, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/previous_version"]
    );
    let mut body = ctd("cmre", "From a secret");
    body["was_derived_from"] = json!([secret, "not-an-id"]);
    let refused = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(
        pointers(&problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/was_derived_from/1"]
    );
    body["was_derived_from"] = json!([secret]);
    let refused = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    let refused = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        pointers(&refused),
        ["/was_derived_from/0"],
        "the editor may not see it: {refused}"
    );

    // Versions.
    let second = create(
        "Gridded fields v2",
        json!({"previous_version": gridded, "version": "2"}),
    )
    .await;
    let third = create(
        "Gridded fields v3",
        json!({"previous_version": second, "version": "3"}),
    )
    .await;
    let versions: Value = server
        .get(&format!("/api/v1/datasets/{second}/versions"))
        .await
        .json()
        .await
        .unwrap();
    let series: Vec<(&str, i64)> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v["distance"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        series,
        [
            (gridded.as_str(), -1),
            (second.as_str(), 0),
            (third.as_str(), 1)
        ]
    );

    // History: a diff between revisions, and the record as it was.
    let before_change = time::OffsetDateTime::now_utc();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let changed = server
        .request(
            Method::PATCH,
            &format!("/api/v1/datasets/{bathymetry}"),
            Some(&server.admin),
        )
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .header(IF_MATCH, "\"1\"")
        .body(
            json!({"title": "Bathymetry, 50 m grid", "license": null, "version": "2"}).to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let diff: Value = server
        .get(&format!("/api/v1/datasets/{bathymetry}/revisions/1/diff/2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(diff["fields_added"], json!(["version"]), "{diff}");
    assert_eq!(diff["fields_updated"], json!(["title"]), "{diff}");
    assert_eq!(diff["fields_deleted"], json!(["license"]), "{diff}");
    assert!(
        diff["patch"].as_array().unwrap().contains(
            &json!({"op": "replace", "path": "/title", "value": "Bathymetry, 50 m grid"})
        )
    );
    let at = before_change
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let then = server
        .get(&format!(
            "/api/v1/datasets/{bathymetry}?as_of={}",
            at.replace('+', "%2B")
        ))
        .await;
    assert_eq!(then.status(), StatusCode::OK);
    assert_eq!(
        then.headers()[reqwest::header::CONTENT_LOCATION],
        format!("/api/v1/datasets/{bathymetry}/revisions/1").as_str()
    );
    let then: Value = then.json().await.unwrap();
    assert_eq!(then["title"], "Bathymetry");
    problem(
        server
            .get(&format!("/api/v1/datasets/{bathymetry}?as_of=2001-01-01"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        server
            .get(&format!("/api/v1/datasets/{bathymetry}?as_of=yesterday"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        server
            .get(&format!("/api/v1/datasets/{secret}?as_of=2100-01-01"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        server
            .get(&format!("/api/v1/datasets/{secret}/revisions/1/diff/1"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // A source's deletion leaves the provenance of what was derived from it.
    let deleted = server
        .delete_first_revision(&format!("/api/v1/datasets/{raw}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let admin_view: Value = server
        .request(
            Method::GET,
            &format!("/api/v1/datasets/{secret}/lineage?direction=upstream"),
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        admin_view["edges"],
        json!([{"from": secret, "to": "redacted-1"}]),
        "{admin_view}"
    );
    // … and a dataset derived from a deleted one can still be changed.
    let changed = server
        .request(
            Method::PATCH,
            &format!("/api/v1/datasets/{secret}"),
            Some(&server.admin),
        )
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .header(IF_MATCH, "*")
        .body(json!({"title": "Calibrated casts, v2"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
}

async fn vocabularies_control_values_and_widen_searches(db: TestStore) {
    const PLATFORM_TYPES: &str = include_str!("../../fathom/vocabularies/platform-types.ttl");
    const PROPERTIES: &str = include_str!("../../fathom/vocabularies/observed-properties.ttl");
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let import = |query: &str, token: &str, content_type: &str, body: &str| {
        server
            .request(
                Method::POST,
                &format!("/api/v1/vocabularies{query}"),
                Some(token),
            )
            .header(CONTENT_TYPE, content_type)
            .body(body.to_owned())
            .send()
    };
    let made = import(
        "?binds=platform_type",
        &server.admin,
        "text/turtle",
        PLATFORM_TYPES,
    )
    .await
    .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    assert_eq!(
        made.headers()[LOCATION],
        "/api/v1/vocabularies/platform-types"
    );
    let vocabulary: Value = made.json().await.unwrap();
    assert_eq!(vocabulary["concepts"], 20);
    assert_eq!(vocabulary["title"]["fr"], "Types de plateforme");
    problem(
        import("", &server.editor, "text/turtle", PLATFORM_TYPES)
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        import("", &server.admin, "application/json", "{}")
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    let broken = problem(
        import(
            "",
            &server.admin,
            "text/turtle",
            "@prefix x: <http://x/> . x:a",
        )
        .await
        .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(broken.to_string().contains("not valid RDF"), "{broken}");
    let cyclic = PLATFORM_TYPES.replace(
        "pt:vessel a skos:Concept ;",
        "pt:vessel a skos:Concept ; skos:broader pt:research_vessel ;",
    );
    let cyclic = problem(
        import("?slug=cyclic", &server.admin, "text/turtle", &cyclic)
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(cyclic.to_string().contains("cycle"), "{cyclic}");
    problem(
        import(
            "?binds=colour",
            &server.admin,
            "text/turtle",
            PLATFORM_TYPES,
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let listed: Value = server
        .get("/api/v1/vocabularies")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "nothing half-written: {listed}"
    );

    // Browse and autocomplete.
    let labels = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["pref_label"]["en"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = "/api/v1/vocabularies/platform-types/concepts";
    let top: Value = server
        .get(&format!("{base}?top=true"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        labels(&top),
        [
            "drifting platform",
            "fixed station",
            "remote sensing platform",
            "uncrewed vehicle",
            "vessel"
        ]
    );
    let typed: Value = server
        .get(&format!("{base}?q=Gli"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        labels(&typed),
        ["underwater glider"],
        "an alternative label matches"
    );
    let typed: Value = server
        .get(&format!("{base}?q=r/v"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(labels(&typed), ["research vessel"]);
    let vessel = "https://w3id.org/fathom/vocab/platform-types/vessel";
    let narrower: Value = server
        .get(&format!("{base}?broader={vessel}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(labels(&narrower), ["research vessel", "survey vessel"]);
    let first: Value = server
        .get(&format!("{base}?limit=15"))
        .await
        .json()
        .await
        .unwrap();
    let rest: Value = server
        .get(first["next"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let mut all = labels(&first);
    all.extend(labels(&rest));
    assert_eq!(all.len(), 20, "{all:?}");
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "in label order, no repeats: {all:?}"
    );
    problem(
        server.get(&format!("{base}?q=")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let auv: Value = server
        .get(&format!("{base}/auv"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        auv["broader"],
        json!(["https://w3id.org/fathom/vocab/platform-types/uncrewed_vehicle"])
    );
    let by_iri: Value = server
        .get(&format!(
            "{base}/https%3A%2F%2Fw3id.org%2Ffathom%2Fvocab%2Fplatform-types%2Fauv"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_iri, auv);
    problem(
        server.get(&format!("{base}/submarine")).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // A bound field takes only the scheme's concepts.
    let platform = |slug: &str, platform_type: &str| json!({"slug": slug, "name": slug, "platform_type": platform_type});
    let refused = server
        .send_json(
            Method::POST,
            "/api/v1/platforms",
            &server.editor,
            &platform("u-1", "submarine"),
        )
        .await;
    let refused = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(pointers(&refused), ["/platform_type"]);
    assert!(
        refused
            .to_string()
            .contains("Platform types (platform-types)"),
        "{refused}"
    );
    for (slug, platform_type) in [
        ("rv-1", "research_vessel"),
        ("auv-1", "AUV"),
        ("glider-1", vessel),
    ] {
        let made = server
            .send_json(
                Method::POST,
                "/api/v1/platforms",
                &server.editor,
                &platform(slug, platform_type),
            )
            .await;
        assert_eq!(made.status(), StatusCode::CREATED, "{platform_type}");
    }

    // Keywords bound to observed properties; a search for a concept finds its narrower ones.
    let made = import("?binds=keywords", &server.admin, "text/turtle", PROPERTIES)
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let mut body = ctd("cmre", "Drifter SST");
    body["keywords"] = json!(["SST", "made up"]);
    let refused = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(
        pointers(&problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/keywords/1"]
    );
    body["keywords"] = json!(["SST"]);
    let made = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let mut other = ctd("cmre", "Salinity sections");
    other["keywords"] = json!(["practical salinity"]);
    let made = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &other)
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    server.search.catch_up().await.unwrap();
    let found: Value = server
        .get("/api/v1/search?keyword=temperature")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["title"], "Drifter SST");
    let found: Value = server
        .get("/api/v1/search?keyword=sea%20water%20temperature")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        found["total"], 1,
        "a narrower concept's alternative label: {found}"
    );

    // Importing again replaces the concepts; deleting lifts the binding.
    let again = import(
        "?slug=platform-types&binds=platform_type",
        &server.admin,
        "text/turtle",
        PLATFORM_TYPES,
    )
    .await
    .unwrap();
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["revision"].as_i64(), again["id"].as_str()),
        (Some(2), vocabulary["id"].as_str())
    );
    let deleted = server
        .request(
            Method::DELETE,
            "/api/v1/vocabularies/platform-types",
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let made = server
        .send_json(
            Method::POST,
            "/api/v1/platforms",
            &server.editor,
            &platform("u-2", "submarine"),
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
}

async fn profiles_are_versioned_checked_for_compatibility_and_enforced(db: TestStore) {
    const CRUISE: &str = include_str!("../../fathom/profiles/oceanographic-cruise-1.0.0.json");
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let schema: Value = serde_json::from_str(CRUISE).unwrap();
    let register = |token: &str, version: &str, schema: &Value| {
        let request = server
            .request(
                Method::POST,
                "/api/v1/profiles/oceanographic-cruise/versions",
                Some(token),
            )
            .json(&json!({"version": version, "schema": schema}));
        async move { request.send().await.unwrap() }
    };
    let made = register(&server.admin, "1.0.0", &schema).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    assert_eq!(
        made.headers()[LOCATION],
        "/api/v1/profiles/oceanographic-cruise/versions/1.0.0"
    );
    problem(
        register(&server.editor, "1.0.1", &schema).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let remote =
        json!({"type": "object", "properties": {"x": {"$ref": "https://example.org/x.json"}}});
    let refused = problem(
        register(&server.admin, "1.0.1", &remote).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(pointers(&refused), ["/schema/properties/x/$ref"]);
    let invalid = problem(
        register(&server.admin, "1.0.1", &json!({"type": 5})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        invalid.to_string().contains("not valid JSON Schema"),
        "{invalid}"
    );
    problem(
        register(&server.admin, "1.0", &schema).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let mut added = schema.clone();
    added["properties"]["platform"] = json!({"type": "string"});
    assert_eq!(
        register(&server.admin, "1.1.0", &added).await.status(),
        StatusCode::CREATED
    );
    let mut breaking = added.clone();
    breaking["properties"]
        .as_object_mut()
        .unwrap()
        .remove("chief_scientist");
    breaking["required"] = json!(["cruise_id", "vessel", "platform"]);
    let refused = problem(
        register(&server.admin, "1.2.0", &breaking).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        pointers(&refused),
        ["/schema/properties/chief_scientist", "/schema/required"],
        "{refused}"
    );
    assert!(refused.to_string().contains("2.0.0"), "{refused}");
    assert_eq!(
        register(&server.admin, "2.0.0", &breaking).await.status(),
        StatusCode::CREATED
    );
    problem(
        register(&server.admin, "1.5.0", &added).await,
        StatusCode::CONFLICT,
    )
    .await;
    let profile: Value = server
        .get("/api/v1/profiles/oceanographic-cruise")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["versions"], json!(["1.0.0", "1.1.0", "2.0.0"]));
    assert_eq!(profile["latest"], "2.0.0");
    let first: Value = server
        .get("/api/v1/profiles/oceanographic-cruise/versions/1.0.0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["schema"], schema);
    problem(
        server.get("/api/v1/profiles/nothing").await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Datasets declare profile versions and are checked against them, every violation reported.
    let mut body = ctd("cmre", "Cruise casts");
    body["conforms_to"] = json!([{"profile": "oceanographic-cruise", "version": "1.0.0"}]);
    body["extensions"] = json!({"oceanographic-cruise": {"cruise_id": "LOGMEC21", "casts": -1,
        "stations": [{"name": "L01", "longitude": 9.1}]}});
    let refused = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    let refused = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let found: BTreeSet<String> = pointers(&refused).into_iter().collect();
    assert_eq!(
        found,
        BTreeSet::from([
            "/extensions/oceanographic-cruise".to_owned(),
            "/extensions/oceanographic-cruise/casts".to_owned(),
            "/extensions/oceanographic-cruise/stations/0".to_owned(),
        ]),
        "{refused}"
    );
    body["extensions"]["other"] = json!({});
    body["conforms_to"][0]["version"] = json!("9.9.9");
    let refused = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(
        pointers(&problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/extensions/other"]
    );
    body["extensions"].as_object_mut().unwrap().remove("other");
    let refused = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(
        pointers(&problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/conforms_to/0"]
    );
    body["conforms_to"][0]["version"] = json!("1.0.0");
    body["extensions"] = json!({"oceanographic-cruise": {"cruise_id": "LOGMEC21", "vessel": "NRV Alliance", "casts": 86}});
    let made = server
        .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let dataset: Value = made.json().await.unwrap();
    assert_eq!(dataset["extensions"]["oceanographic-cruise"]["casts"], 86);
    assert_eq!(server.dataset_count().await, 1, "nothing else was written");
}

async fn the_api_describes_itself(db: TestStore) {
    let server = Server::start(db).await;
    let spec: Value = server
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/datasets",
        "/api/v1/datasets/{key}",
        "/api/v1/datasets/{key}/revisions/{revision}",
        "/api/v1/datasets/{key}/distributions/{distribution}",
        "/api/v1/organisations/{key}",
        "/healthz",
        "/readyz",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} is documented");
    }
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    let docs = server.get("/docs/").await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        docs.text().await.unwrap().contains("swagger"),
        "the docs UI is served from the binary"
    );
}

async fn search_finds_by_words_place_time_and_filters(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    server.with_organisation("nhs").await;
    let datasets = [
        json!({"title": "Multibeam bathymetry, Palmaria canyon", "organisation": "cmre", "keywords": ["multibeam", "bathymetry"],
               "spatial": {"bbox": [9.7, 44.0, 9.9, 44.1]}, "temporal": {"start": "2016-07-12", "end": "2016-07-19"},
               "distributions": [{"title": "grid", "access_url": "https://data.example.org/1", "format": "GeoTIFF"}], "license": "CC-BY-4.0"}),
        json!({"title": "Glider sections across the Ligurian front", "organisation": "cmre", "keywords": ["glider", "temperature"],
               "description": "Repeated sections by two gliders, with bathymetry context.",
               "spatial": {"bbox": [8.0, 43.0, 10.0, 44.0]}, "temporal": {"start": "2022-03-10", "end": "2022-04-30"},
               "distributions": [{"title": "profiles", "access_url": "https://data.example.org/2", "format": "NetCDF"}], "license": "CC-BY-4.0"}),
        json!({"title": "Expendable bathythermograph archive, Central Pacific", "organisation": "nhs", "keywords": ["xbt", "temperature"],
               "spatial": {"bbox": [172.0, -12.0, -168.0, 8.0]}, "temporal": {"start": "1995-01-01"},
               "distributions": [{"title": "csv", "access_url": "https://data.example.org/3", "format": "CSV"}], "license": "CC0-1.0"}),
        json!({"title": "Tide gauge records", "organisation": "nhs", "keywords": ["tides"], "language": ["fr", "en"],
               "description": "Sea level every fifteen minutes.", "license": "CC0-1.0"}),
    ];
    for body in &datasets {
        let response = server
            .send_json(Method::POST, "/api/v1/datasets", &server.editor, body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let lag = |server: &Server| {
        let url = format!("{}/readyz", server.base);
        async move {
            http()
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["search_lag"]
                .as_i64()
        }
    };
    assert_eq!(
        lag(&server).await,
        Some(6),
        "two organisations and four datasets not yet indexed"
    );
    server.search.catch_up().await.unwrap();
    assert_eq!(lag(&server).await, Some(0));
    let search = |query: &'static str| {
        let server = &server;
        async move {
            let response = server.get(&format!("/api/v1/search?{query}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };
    let titles = |page: &Value| -> Vec<String> {
        page["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["title"].as_str().unwrap().to_owned())
            .collect()
    };

    let exact = search("q=Tide%20gauge%20records").await;
    assert_eq!(
        titles(&exact)[0],
        "Tide gauge records",
        "an exact title ranks first"
    );
    let words = search("q=bathymetry%20multibeam").await;
    assert_eq!(
        titles(&words)[0],
        "Multibeam bathymetry, Palmaria canyon",
        "all words beat some words"
    );
    assert_eq!(
        words["total"], 2,
        "the glider record mentions bathymetry too"
    );
    assert!(
        words["hits"][0]["highlights"]["title"]
            .as_str()
            .unwrap()
            .contains("<b>")
    );
    assert_eq!(
        titles(&search("q=gilder").await),
        ["Glider sections across the Ligurian front"],
        "one typo"
    );
    assert_eq!(
        titles(&search("q=multib").await),
        ["Multibeam bathymetry, Palmaria canyon"],
        "prefix of the last word"
    );
    assert_eq!(search("q=%22Ligurian%20front%22").await["total"], 1);

    let pacific = search("bbox=179,-5,-179,5").await;
    assert_eq!(
        titles(&pacific),
        ["Expendable bathythermograph archive, Central Pacific"],
        "across the antimeridian"
    );
    assert_eq!(search("bbox=9.75,44.05,9.8,44.08").await["total"], 1);
    assert_eq!(
        search("bbox=-170,-1,-169,1").await["total"],
        1,
        "the east part of a crossing box"
    );
    assert_eq!(
        search("datetime=2022-04-01/..").await["total"],
        2,
        "open end; the Pacific series is ongoing"
    );
    assert_eq!(search("datetime=2010-01-01/2010-12-31").await["total"], 1);
    assert_eq!(
        titles(&search("datetime=2016-01-01/2016-12-31&sort=title").await),
        [
            "Expendable bathythermograph archive, Central Pacific",
            "Multibeam bathymetry, Palmaria canyon"
        ],
        "the ongoing series overlaps 2016 too"
    );

    let filtered =
        search("keyword=temperature&facets=organisation,format,licence&sort=title").await;
    assert_eq!(
        titles(&filtered),
        [
            "Expendable bathythermograph archive, Central Pacific",
            "Glider sections across the Ligurian front"
        ]
    );
    let organisations = filtered["facets"]["organisation"].as_array().unwrap();
    assert_eq!(organisations.len(), 2);
    assert!(organisations.iter().all(|f| f["count"] == 1));
    assert_eq!(
        search("organisation=cmre&organisation=nhs&licence=CC0-1.0").await["total"],
        2
    );
    assert_eq!(titles(&search("language=fr").await), ["Tide gauge records"]);
    assert_eq!(search("state=published").await["total"], 4);
    assert_eq!(search("state=draft&state=retired").await["total"], 0);
    let all = search("facets=keyword&limit=3").await;
    assert_eq!(all["total"], 4);
    let temperature = all["facets"]["keyword"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["value"] == "temperature")
        .unwrap();
    assert_eq!(temperature["count"], 2);
    let next = all["next"].as_str().unwrap().to_owned();
    let rest: Value = server.get(&next).await.json().await.unwrap();
    assert_eq!(rest["hits"].as_array().unwrap().len(), 1);
    assert!(rest.get("next").is_none());

    for bad in [
        "bbox=1,2,3",
        "bbox=0,0,10,91",
        "datetime=2020-01-01/2019-01-01",
        "datetime=soon",
        "facets=colour",
        "limit=0",
        "limit=101",
        "cursor=forged",
        "sort=random",
        "state=lost",
        "colour=red",
    ] {
        problem(
            server.get(&format!("/api/v1/search?{bad}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    problem(
        server
            .get(&format!("/api/v1/search?q={}", "a".repeat(501)))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    for odd in [
        "q=%22unbalanced",
        "q=a%2Bb%3A(c)%20-d*",
        "q=%20",
        "q=AND%20OR%20NOT",
    ] {
        search(odd).await;
    }

    // Datasets are found by their organisation's name, also after it changes.
    assert_eq!(search("q=hydrographic").await["total"], 0);
    let renamed = server
        .request(
            Method::PATCH,
            "/api/v1/organisations/nhs",
            Some(&server.admin),
        )
        .header(IF_MATCH, "*")
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(json!({"name": "Hydrographic Survey of Norway"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    server.search.catch_up().await.unwrap();
    assert_eq!(search("q=hydrographic").await["total"], 2);

    let deleted = server
        .request(
            Method::DELETE,
            "/api/v1/datasets/tide-gauge-records",
            Some(&server.editor),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    server.search.catch_up().await.unwrap();
    assert_eq!(
        search("q=tide").await["total"],
        0,
        "a deleted dataset leaves the index"
    );
}

async fn ogc_api_records_serves_the_catalogue(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    for (title, bbox) in [
        ("Glider section", [8.0, 43.0, 10.0, 44.0]),
        ("CTD casts", [8.5, 43.5, 9.0, 44.0]),
        ("Pacific XBT", [172.0, -12.0, -168.0, 8.0]),
    ] {
        let body = json!({"title": title, "organisation": "cmre", "spatial": {"bbox": bbox}, "temporal": {"start": "2020-01-01", "end": "2020-02-01"},
            "identifiers": [format!("https://doi.org/10.5072/{}", title.to_lowercase().replace(' ', "-"))]});
        assert_eq!(
            server
                .send_json(Method::POST, "/api/v1/datasets", &server.editor, &body)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    server.search.catch_up().await.unwrap();
    let get = |path: String| {
        let server = &server;
        async move {
            let response = server.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.json::<Value>().await.unwrap()
        }
    };
    let landing = get("/ogcapi".into()).await;
    let rels: Vec<_> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rel} in {rels:?}");
    }
    let conformance = get("/ogcapi/conformance".into()).await;
    assert!(
        conformance["conformsTo"]
            .as_array()
            .unwrap()
            .contains(&json!(
                "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/core"
            ))
    );
    assert!(
        get("/ogcapi/api".into()).await["paths"]["/ogcapi/collections/{collection}/items"]
            .is_object()
    );
    let collections = get("/ogcapi/collections".into()).await;
    assert_eq!(collections["collections"][0]["id"], "datasets");
    assert_eq!(
        get("/ogcapi/collections/datasets".into()).await["itemType"],
        "record"
    );
    problem(
        server.get("/ogcapi/collections/nope").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Sorting: the sortable properties are declared, and the collection links to them.
    assert!(
        conformance["conformsTo"]
            .as_array()
            .unwrap()
            .contains(&json!(
                "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting"
            ))
    );
    let sortables = server.get("/ogcapi/collections/datasets/sortables").await;
    assert_eq!(sortables.headers()[CONTENT_TYPE], "application/schema+json");
    let sortables: Value = sortables.json().await.unwrap();
    let mut names: Vec<&str> = sortables["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["title", "updated"]);
    let links = get("/ogcapi/collections/datasets".into()).await["links"].clone();
    assert!(
        links
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/sortables")
    );
    problem(
        server.get("/ogcapi/collections/nope/sortables").await,
        StatusCode::NOT_FOUND,
    )
    .await;

    let response = server
        .get("/ogcapi/collections/datasets/items?limit=2")
        .await;
    assert_eq!(response.headers()[CONTENT_TYPE], "application/geo+json");
    let page: Value = response.json().await.unwrap();
    assert_eq!(
        (
            page["type"].as_str(),
            page["numberMatched"].as_u64(),
            page["numberReturned"].as_u64()
        ),
        (Some("FeatureCollection"), Some(3), Some(2))
    );
    let next = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let rest = get(next).await;
    assert_eq!(rest["numberReturned"], 1);
    let rels = |page: &Value| -> Vec<String> {
        page["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["rel"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(rels(&page), ["self", "next"]);
    assert_eq!(rels(&rest), ["self", "prev"]);

    let titles = |page: &Value| -> Vec<String> {
        page["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        titles(&get("/ogcapi/collections/datasets/items?sortby=-title".into()).await),
        ["Pacific XBT", "Glider section", "CTD casts"]
    );
    assert_eq!(
        titles(&get("/ogcapi/collections/datasets/items?sortby=%2Btitle".into()).await),
        ["CTD casts", "Glider section", "Pacific XBT"]
    );
    let by_doi = get(
        "/ogcapi/collections/datasets/items?externalIds=https://doi.org/10.5072/ctd-casts,https://doi.org/10.5072/none".into(),
    )
    .await;
    assert_eq!(titles(&by_doi), ["CTD casts"]);
    assert_eq!(
        get("/ogcapi/collections/datasets/items?type=dataset".into()).await["numberMatched"],
        3
    );
    assert_eq!(
        get("/ogcapi/collections/datasets/items?type=service".into()).await["numberMatched"],
        0
    );

    let glider = get("/ogcapi/collections/datasets/items?q=glider".into()).await;
    assert_eq!(
        glider["features"][0]["properties"]["title"],
        "Glider section"
    );
    assert_eq!(
        get("/ogcapi/collections/datasets/items?bbox=179,-1,-179,1".into()).await["numberMatched"],
        1
    );
    assert_eq!(
        get("/ogcapi/collections/datasets/items?datetime=2021-01-01/..".into()).await["numberMatched"],
        0
    );
    let id = glider["features"][0]["id"].as_str().unwrap().to_owned();
    let by_ids = get(format!("/ogcapi/collections/datasets/items?ids={id}")).await;
    assert_eq!(by_ids["numberReturned"], 1);
    let record = get(format!("/ogcapi/collections/datasets/items/{id}")).await;
    assert_eq!(
        (record["type"].as_str(), record["geometry"]["type"].as_str()),
        (Some("Feature"), Some("Polygon"))
    );
    assert_eq!(record["properties"]["type"], "dataset");
    assert_eq!(record["time"]["interval"][0], "2020-01-01T00:00:00Z");
    for bad in [
        "limit=0",
        "limit=5000",
        "bbox=1,2,3",
        "offset=-1",
        "colour=red",
        "sortby=colour",
        "sortby=title,-updated",
    ] {
        problem(
            server
                .get(&format!("/ogcapi/collections/datasets/items?{bad}"))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    problem(
        server
            .get(&format!(
                "/ogcapi/collections/datasets/items/{}",
                uuid_like()
            ))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

fn uuid_like() -> &'static str {
    "01990000-0000-7000-8000-000000000000"
}

async fn security_labels_are_parsed_and_guarded(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let policy: Value = server.get("/api/v1/policy").await.json().await.unwrap();
    assert_eq!(policy["classifications"][0], "PUBLIC");
    assert_eq!(policy["public"], "PUBLIC");

    // No label: the policy's default.
    let plain = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.editor,
            &json!({"title": "Plain", "organisation": "cmre"}),
        )
        .await;
    assert_eq!(plain.status(), StatusCode::CREATED);
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(
        plain["security_label"],
        json!({"policy": policy["id"], "classification": "PUBLIC"})
    );

    let restricted = json!({"title": "Restricted", "organisation": "cmre",
        "security_label": {"classification": "NATO RESTRICTED",
                           "categories": [{"tag": "ReleasableTo", "values": ["NOR", "ITA"]}]}});
    // An editor (who holds the public classification only, for now) cannot label beyond it.
    problem(
        server
            .send_json(
                Method::POST,
                "/api/v1/datasets",
                &server.editor,
                &restricted,
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let created = server
        .send_json(Method::POST, "/api/v1/datasets", &server.admin, &restricted)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        created["security_label"]["categories"],
        json!([{"tag": "ReleasableTo", "type": "permissive", "values": ["ITA", "NOR"]}])
    );

    // Unknown classifications and values are pointed at; nothing is written.
    let before = server.dataset_count().await;
    let bad = problem(
        server
            .send_json(
                Method::POST,
                "/api/v1/datasets",
                &server.admin,
                &json!({"title": "Bad", "organisation": "cmre",
                        "security_label": {"classification": "TOP SECRET",
                                           "categories": [{"tag": "ReleasableTo", "values": ["ATLANTIS"]}]}}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let pointers: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/security_label/classification",
            "/security_label/categories/0/values/0"
        ]
    );
    assert_eq!(server.dataset_count().await, before);

    // Changing a label is a release: an editor may change the rest, not the label.
    let path = format!("/api/v1/datasets/{}", plain["id"].as_str().unwrap());
    let patch = |body: Value| {
        server
            .request(Method::PATCH, &path, Some(&server.editor))
            .header(IF_MATCH, "\"1\"")
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(body.to_string())
            .send()
    };
    let refused = problem(
        patch(json!({"security_label": {"classification": "NATO UNCLASSIFIED"}}))
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        refused["type"], "urn:fathom:problem:clearance-required",
        "{refused}"
    );
    let retitled = patch(json!({"title": "Plain, retitled"})).await.unwrap();
    assert_eq!(retitled.status(), StatusCode::OK);

    // Roles per organisation: a steward of cmre cleared for both labels may release; a steward
    // elsewhere may not; an editor of cmre writes there and nowhere else.
    server.with_organisation("nhs").await;
    let member = |name: &str, organisation: &str, role: OrganisationRole| NewUser {
        name: name.into(),
        role: Role::Viewer,
        clearance: Some("NATO SECRET".into()),
        nationality: Some("NOR".into()),
        communities: vec!["NATO".into()],
        memberships: vec![Membership {
            organisation: Slug::parse(organisation).unwrap(),
            role,
        }],
    };
    let steward = server
        .cleared_token(member("stew", "cmre", OrganisationRole::Steward))
        .await;
    let foreign_steward = server
        .cleared_token(member("other", "nhs", OrganisationRole::Steward))
        .await;
    let cmre_editor = server
        .cleared_token(member("cmre-ed", "cmre", OrganisationRole::Editor))
        .await;
    let release = |token: String, revision: &'static str| {
        server
            .request(Method::PATCH, &path, Some(&token))
            .header(IF_MATCH, revision)
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(json!({"security_label": {"classification": "NATO UNCLASSIFIED"}}).to_string())
            .send()
    };
    for token in [foreign_steward, cmre_editor.clone()] {
        problem(
            release(token, "\"2\"").await.unwrap(),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let released = release(steward, "\"2\"").await.unwrap();
    assert_eq!(released.status(), StatusCode::OK);
    let released: Value = released.json().await.unwrap();
    assert_eq!(
        released["security_label"]["classification"],
        "NATO UNCLASSIFIED"
    );
    let in_cmre = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &cmre_editor,
            &json!({"title": "By a member", "organisation": "cmre",
                    "security_label": {"classification": "NATO CONFIDENTIAL"}}),
        )
        .await;
    assert_eq!(in_cmre.status(), StatusCode::CREATED);
    problem(
        server
            .send_json(
                Method::POST,
                "/api/v1/datasets",
                &cmre_editor,
                &json!({"title": "Elsewhere", "organisation": "nhs"}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

/// An audit entry describes only what committed: a label change refused for a bad reference or
/// a stale revision leaves no `label_changed`, an accepted one exactly one, and the chain holds.
async fn a_label_change_is_audited_only_when_it_commits(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let created: Value = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.admin,
            &json!({"title": "Relabelled", "organisation": "cmre"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/datasets/{}", created["id"].as_str().unwrap());
    let relabel = |revision: &'static str, body: Value| {
        server
            .request(Method::PATCH, &path, Some(&server.admin))
            .header(IF_MATCH, revision)
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(body.to_string())
            .send()
    };
    let label_changes = || async {
        let audit: Value = server
            .request(
                Method::GET,
                "/api/v1/audit?event=label_changed&limit=1000",
                Some(&server.admin),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        audit["items"].as_array().unwrap().clone()
    };
    let narrower = json!({"classification": "NATO UNCLASSIFIED"});

    let refused = relabel(
        "\"1\"",
        json!({"security_label": narrower, "organisation": "nowhere",
               "domain": "no-such-domain", "project": "no-such-project"}),
    )
    .await
    .unwrap();
    let refused = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["type"], "urn:fathom:problem:reference-not-found");
    let pointers: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        ["/organisation", "/domain", "/project"],
        "every unresolved reference at once"
    );
    let stale = relabel("\"7\"", json!({"security_label": narrower}))
        .await
        .unwrap();
    let stale = problem(stale, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(stale["type"], "urn:fathom:problem:stale-revision");
    assert_eq!(stale["title"], "Stale revision");
    assert_eq!(label_changes().await, Vec::<Value>::new());

    let accepted = relabel("\"1\"", json!({"security_label": narrower}))
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let entries = label_changes().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["actor"], "root");
    assert_eq!(entries[0]["details"]["from"]["classification"], "PUBLIC");
    assert_eq!(
        entries[0]["details"]["to"]["classification"],
        "NATO UNCLASSIFIED"
    );
    let chain = server.db.store.verify_audit_chain().await.unwrap();
    assert!(chain.broken.is_none(), "{chain:?}");
}

/// The leak test: labelled datasets drawn at random (seeded), and for each kind of reader, every read
/// path shows exactly what the policy's decision allows: records, totals and facet counts alike.
async fn no_read_path_shows_what_its_reader_may_not_see(db: TestStore) {
    use fathom_model::{Clearance, Nation, Policy, SecurityLabel, Subject};
    use std::collections::BTreeMap;

    let server = &Server::start(db).await;
    let organisations = ["cmre", "nhs"];
    for organisation in organisations {
        server.with_organisation(organisation).await;
    }
    let labels = [
        None,
        Some(json!({"classification": "NATO UNCLASSIFIED"})),
        Some(
            json!({"classification": "PUBLIC", "categories": [{"tag": "ReleasableTo", "values": ["NOR"]}]}),
        ),
        Some(
            json!({"classification": "PUBLIC", "categories": [{"tag": "NeedToKnow", "values": ["REP-MUS"]}]}),
        ),
        Some(
            json!({"classification": "NATO SECRET", "categories": [{"tag": "ReleasableTo", "values": ["NATO"]}]}),
        ),
    ];
    let mut seed: u64 = 0x5eed;
    let mut draw = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % n
    };
    let mut datasets: Vec<(String, &str, SecurityLabel)> = Vec::new();
    for n in 0..24 {
        let organisation = organisations[draw(2)];
        let mut body = json!({"title": format!("Survey {n}"), "organisation": organisation,
            "keywords": ["survey"], "spatial": {"bbox": [5.0, 40.0, 10.0, 45.0]},
            "distributions": [{"access_url": "https://data.example.org/x"}]});
        if let Some(label) = &labels[draw(labels.len())] {
            body["security_label"] = label.clone();
        }
        let created = server
            .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let created: Value = created.json().await.unwrap();
        let label = serde_json::from_value(created["security_label"].clone()).unwrap();
        datasets.push((
            created["id"].as_str().unwrap().to_owned(),
            organisation,
            label,
        ));
    }
    server.search.catch_up().await.unwrap();

    let policy = Policy::default_policy();
    let anonymous = Subject::anonymous(&policy);
    let administrator = Subject {
        administrator: true,
        ..anonymous.clone()
    };
    let mut readers: Vec<(String, Option<String>, Subject)> = vec![
        ("anonymous".into(), None, anonymous.clone()),
        (
            "viewer".into(),
            Some(server.viewer.clone()),
            anonymous.clone(),
        ),
        (
            "editor".into(),
            Some(server.editor.clone()),
            anonymous.clone(),
        ),
        ("admin".into(), Some(server.admin.clone()), administrator),
    ];
    // Random principals: a clearance, a nationality, communities.
    let classifications = &policy.document().classifications;
    let nations = ["NOR", "ITA", "USA"];
    let communities = ["NATO", "EU", "REP-MUS", "SEA-TRIALS"];
    for n in 0..8 {
        let clearance = classifications[draw(classifications.len())].clone();
        let nationality = nations[draw(nations.len())];
        let held: Vec<String> = communities
            .iter()
            .filter(|_| draw(2) == 0)
            .map(|c| (*c).to_owned())
            .collect();
        let token = server
            .cleared_token(NewUser {
                name: format!("reader-{n}"),
                role: Role::Viewer,
                clearance: Some(clearance.clone()),
                nationality: Some(nationality.into()),
                communities: held.clone(),
                memberships: Vec::new(),
            })
            .await;
        let subject = Subject {
            administrator: false,
            everywhere: None,
            clearance: Clearance::new(
                &policy,
                &clearance,
                Some(Nation::parse(nationality).unwrap()),
                held.clone(),
            )
            .unwrap(),
            memberships: Vec::new(),
            // Every other reader holds grants on two drawn datasets (some above their
            // classification, which a grant never opens).
            granted: if n % 2 == 0 {
                let granted = [draw(datasets.len()), draw(datasets.len())]
                    .map(|d| datasets[d].0.parse().unwrap());
                for dataset in granted {
                    grant(server, &format!("reader-{n}"), dataset).await;
                }
                granted.to_vec()
            } else {
                Vec::new()
            },
        };
        readers.push((
            format!("{clearance}/{nationality}/{held:?}"),
            Some(token),
            subject,
        ));
    }
    let may_read = |subject: &Subject, id: &str, label: &SecurityLabel| {
        policy.may_read_dataset(subject, id.parse().unwrap(), label)
    };
    let visible = |subject: &Subject| {
        datasets
            .iter()
            .filter(|(id, _, label)| may_read(subject, id, label))
            .count()
    };
    assert!(
        readers.iter().any(|(_, _, subject)| datasets
            .iter()
            .any(|(id, _, label)| may_read(subject, id, label)
                && !policy.subject_may_read(subject, label))),
        "some drawn grant opens a dataset its label alone would hide"
    );
    assert!(
        readers[4..]
            .iter()
            .any(|(_, _, subject)| visible(subject) > visible(&anonymous)),
        "some drawn clearance sees more than an anonymous reader"
    );
    for (who, token, subject) in &readers {
        let (who, token) = (who.as_str(), token.as_deref());
        let expected: BTreeSet<&str> = datasets
            .iter()
            .filter(|(id, _, label)| may_read(subject, id, label))
            .map(|(id, _, _)| id.as_str())
            .collect();
        if subject == &anonymous {
            assert!(
                expected.len() < datasets.len(),
                "the draw labels some datasets beyond {who}"
            );
        }
        let get = |path: String| async move {
            server
                .request(Method::GET, &path, token)
                .send()
                .await
                .unwrap()
        };
        let json = move |path: String| async move {
            let response = get(path.clone()).await;
            assert_eq!(response.status(), StatusCode::OK, "{who}: {path}");
            response.json::<Value>().await.unwrap()
        };
        let ids_of = |items: &Value, id: &str| -> BTreeSet<String> {
            items
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item[id].as_str().unwrap().to_owned())
                .collect()
        };
        let expected_owned: BTreeSet<String> = expected.iter().map(|id| (*id).to_owned()).collect();

        for (id, _, _) in &datasets {
            let status = if expected.contains(id.as_str()) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            for path in [
                format!("/api/v1/datasets/{id}"),
                format!("/api/v1/datasets/{id}/revisions"),
                format!("/api/v1/datasets/{id}/revisions/1"),
                format!("/api/v1/datasets/{id}/distributions"),
                format!("/ogcapi/collections/datasets/items/{id}"),
                format!("/api/v1/datasets/{id}?format=ttl"),
                format!("/api/v1/datasets/{id}?format=iso19139"),
            ] {
                assert_eq!(get(path.clone()).await.status(), status, "{who}: {path}");
            }
        }

        // The list, page by page.
        let mut listed = BTreeSet::new();
        let mut next = Some("/api/v1/datasets?limit=5".to_owned());
        while let Some(path) = next {
            let page = json(path).await;
            listed.extend(ids_of(&page["items"], "id"));
            next = page["next"].as_str().map(str::to_owned);
        }
        assert_eq!(listed, expected_owned, "{who}: list");

        // Search: hits, total and facet counts.
        for query in ["q=survey&", ""] {
            let found = json(format!(
                "/api/v1/search?{query}facets=organisation&limit=100"
            ))
            .await;
            assert_eq!(found["total"], expected.len(), "{who}: search total");
            assert_eq!(ids_of(&found["hits"], "id"), expected_owned, "{who}: hits");
            let mut per_organisation: BTreeMap<&str, u64> = BTreeMap::new();
            for (id, organisation, _) in &datasets {
                if expected.contains(id.as_str()) {
                    *per_organisation.entry(organisation).or_default() += 1;
                }
            }
            let facets: BTreeMap<&str, u64> = found["facets"]["organisation"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (f["value"].as_str().unwrap(), f["count"].as_u64().unwrap()))
                .collect();
            assert_eq!(facets, per_organisation, "{who}: facet counts");
        }

        // DCAT-AP: the catalogue, page by page.
        let mut exported = BTreeSet::new();
        let mut next = Some("/api/v1/catalog?limit=4&format=nt".to_owned());
        while let Some(path) = next.take() {
            let response = get(path.clone()).await;
            assert_eq!(response.status(), StatusCode::OK, "{who}: {path}");
            let (datasets, next_page) =
                catalogue_page(&server.base, &response.text().await.unwrap());
            exported.extend(datasets);
            next = next_page;
        }
        assert_eq!(exported, expected_owned, "{who}: DCAT-AP catalogue");

        // OGC API - Records: search and ids.
        let items = json("/ogcapi/collections/datasets/items?limit=100".into()).await;
        assert_eq!(items["numberMatched"], expected.len(), "{who}: OGC total");
        assert_eq!(
            ids_of(&items["features"], "id"),
            expected_owned,
            "{who}: OGC"
        );
        let all: Vec<&str> = datasets.iter().map(|(id, _, _)| id.as_str()).collect();
        let by_ids = json(format!(
            "/ogcapi/collections/datasets/items?ids={}",
            all.join(",")
        ))
        .await;
        assert_eq!(
            ids_of(&by_ids["features"], "id"),
            expected_owned,
            "{who}: OGC ids"
        );
    }
}

/// The dataset ids and the next page's path of a page of `/api/v1/catalog` in N-Triples.
fn catalogue_page(base: &str, ntriples: &str) -> (BTreeSet<String>, Option<String>) {
    let dataset_prefix = format!("<{base}/api/v1/datasets/");
    let a_dataset =
        " <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset> .";
    let mut datasets = BTreeSet::new();
    let mut next = None;
    for line in ntriples.lines() {
        if let Some(subject) = line.strip_suffix(a_dataset) {
            let id = subject
                .strip_prefix(&dataset_prefix)
                .unwrap()
                .trim_end_matches('>');
            datasets.insert(id.to_owned());
        }
        if let Some((_, object)) = line.split_once(" <http://www.w3.org/ns/hydra/core#next> <") {
            let url = object.trim_end_matches(" .").trim_end_matches('>');
            next = Some(url.strip_prefix(base).unwrap().to_owned());
        }
    }
    (datasets, next)
}

/// A dataset as DCAT-AP in each RDF syntax, chosen by `Accept` or `format`; the catalogue as pages
/// linked by Hydra views; refusals for what cannot be served.
async fn datasets_and_the_catalogue_speak_dcat_ap(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let mut ids = BTreeSet::new();
    for n in 0..5 {
        let created = server
            .send_json(
                Method::POST,
                "/api/v1/datasets",
                &server.admin,
                &ctd("cmre", &format!("CTD casts {n}")),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        ids.insert(
            created.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let id = ids.first().unwrap().clone();
    let read = |accept: &'static str, query: &'static str| {
        let request = server.request(Method::GET, &format!("/api/v1/datasets/{id}{query}"), None);
        async move { request.header("accept", accept).send().await.unwrap() }
    };
    for (accept, query, media_type) in [
        ("text/turtle", "", "text/turtle"),
        ("application/ld+json", "", "application/ld+json"),
        (
            "application/rdf+xml;q=0.9, text/html;q=0.1",
            "",
            "application/rdf+xml",
        ),
        ("application/n-triples", "", "application/n-triples"),
        ("application/json", "?format=ttl", "text/turtle"),
        ("text/html,*/*;q=0.8", "", "application/json"),
        (
            "application/vnd.iso.19139+xml",
            "",
            "application/vnd.iso.19139+xml",
        ),
        (
            "text/turtle",
            "?format=iso19139",
            "application/vnd.iso.19139+xml",
        ),
        ("*/*", "?format=schemaorg", "application/ld+json"),
        ("*/*", "?format=dcterms-json", "application/json"),
        ("application/xml", "", "application/xml"),
    ] {
        let response = read(accept, query).await;
        assert_eq!(response.status(), StatusCode::OK, "{accept} {query}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            media_type,
            "{accept} {query}"
        );
        assert_eq!(response.headers()["vary"], "accept");
        let body = response.text().await.unwrap();
        assert!(body.contains("CTD casts 0"), "{media_type}: {body}");
        match media_type {
            "application/json" if query.contains("dcterms-json") => {
                let document: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(document["dcterms:title"], "CTD casts 0");
                assert_eq!(document["dcterms:subject"], json!(["CTD", "Ligurian Sea"]));
                assert_eq!(document["@context"]["dcterms"], "http://purl.org/dc/terms/");
            }
            "application/json" => {}
            "application/vnd.iso.19139+xml" => assert!(body.contains("<gmd:MD_Metadata"), "{body}"),
            "application/xml" => assert!(
                body.contains("<dcterms:title>CTD casts 0</dcterms:title>"),
                "{body}"
            ),
            "application/ld+json" if query.contains("schemaorg") => {
                let document: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(
                    (document["@type"].as_str(), document["name"].as_str()),
                    (Some("Dataset"), Some("CTD casts 0"))
                );
                assert_eq!(
                    document["spatialCoverage"]["geo"]["box"], "43 8 44.5 10.5",
                    "south west north east"
                );
                assert_eq!(
                    document["temporalCoverage"],
                    "2024-04-01T00:00:00Z/2024-04-20T12:00:00Z"
                );
                assert_eq!(document["license"], "https://spdx.org/licenses/CC-BY-4.0");
            }
            _ => assert!(
                body.contains("http://www.w3.org/ns/dcat#") || body.contains("dcat:"),
                "{body}"
            ),
        }
    }
    problem(read("image/png", "").await, StatusCode::NOT_ACCEPTABLE).await;
    let refused = problem(
        read("text/turtle", "?format=xls").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(refused["errors"][0]["parameter"], "format");
    problem(
        read("text/turtle", "?fromat=ttl").await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let mut exported = BTreeSet::new();
    let mut pages = 0;
    let mut next = Some("/api/v1/catalog?limit=2&format=nt".to_owned());
    while let Some(path) = next.take() {
        let response = server.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/n-triples");
        let (datasets, next_page) = catalogue_page(&server.base, &response.text().await.unwrap());
        assert!(datasets.len() <= 2, "{datasets:?}");
        exported.extend(datasets);
        next = next_page;
        pages += 1;
    }
    assert_eq!((exported, pages), (ids, 3));
    let turtle = server.get("/api/v1/catalog").await;
    assert_eq!(turtle.headers()[CONTENT_TYPE], "text/turtle");
    let turtle = turtle.text().await.unwrap();
    assert!(
        turtle.contains("a dcat:Catalog") && turtle.contains("hydra:PartialCollectionView"),
        "{turtle}"
    );
    for bad in [
        "limit=0",
        "limit=10001",
        "limit=ten",
        "cursor=forged",
        "format=json",
        "page=2",
    ] {
        problem(
            server.get(&format!("/api/v1/catalog?{bad}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let json = server
        .request(Method::GET, "/api/v1/catalog", None)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    problem(json, StatusCode::NOT_ACCEPTABLE).await;
}

/// The text of each `<name …>…</name>` element of an XML document, in order (enough for the flat
/// elements of OAI-PMH headers).
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}"), format!("</{name}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        if !after.starts_with(['>', ' ', '/']) {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        if after[..gt].ends_with('/') {
            found.push("");
            rest = &after[gt + 1..];
            continue;
        }
        let body = &after[gt + 1..];
        let end = body.find(&close).unwrap();
        found.push(&body[..end]);
        rest = &body[end..];
    }
    found
}

/// An OAI-PMH request; asserts the response is XML with status 200 and returns its text.
async fn oai(server: &Server, query: &str, token: Option<&str>) -> String {
    let response = server
        .request(Method::GET, &format!("/oai?{query}"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    assert_eq!(response.headers()[CONTENT_TYPE], "text/xml; charset=utf-8");
    response.text().await.unwrap()
}

fn oai_error(xml: &str) -> Option<String> {
    let start = xml.find("<error code=\"")? + 13;
    Some(xml[start..start + xml[start..].find('"')?].to_owned())
}

/// Follows a list's resumption tokens; returns every header's identifier (with ` deleted` after the
/// deleted ones) and the pages' `completeListSize` and `cursor` attributes.
async fn oai_list(server: &Server, first: &str, token: Option<&str>) -> (Vec<String>, Vec<String>) {
    let mut identifiers = Vec::new();
    let mut tokens = Vec::new();
    let mut query = first.to_owned();
    loop {
        let xml = oai(server, &query, token).await;
        assert_eq!(oai_error(&xml), None, "{xml}");
        for header in xml.split("<header").skip(1) {
            let id = elements(header, "identifier")[0];
            let deleted = header.starts_with(" status=\"deleted\"");
            identifiers.push(format!("{id}{}", if deleted { " deleted" } else { "" }));
        }
        let Some(start) = xml.find("<resumptionToken ") else {
            break;
        };
        let element = &xml[start..];
        tokens.push(element[..element.find('>').unwrap()].to_owned());
        let next = elements(element, "resumptionToken")[0];
        if next.is_empty() {
            break;
        }
        let verb = first.split('&').next().unwrap();
        query = format!("{verb}&resumptionToken={next}");
    }
    (identifiers, tokens)
}

/// OAI-PMH: the six verbs, resumption across pages, deletions reported, every error code, and
/// nothing a caller may not see in any list, count or record.
async fn oai_pmh_harvests_what_the_caller_may_see(db: TestStore) {
    let server = Server::start_with(db, |settings| settings.oai_page_size = 3, |_| {}).await;
    let no_sets = oai(&server, "verb=ListSets", None).await;
    assert_eq!(
        oai_error(&no_sets).as_deref(),
        Some("noSetHierarchy"),
        "without organisations"
    );
    server.with_organisation("cmre").await;
    server.with_organisation("nhs").await;
    let mut ids = Vec::new();
    for n in 0..8 {
        let mut body = ctd(
            if n < 6 { "cmre" } else { "nhs" },
            &format!("Glider section {n}"),
        );
        if n == 1 || n == 4 {
            body["security_label"] = json!({"classification": "NATO SECRET"});
        }
        let created = server
            .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        ids.push(
            created.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // One public and one secret dataset deleted.
    for n in [2, 4] {
        let response = server
            .request(
                Method::DELETE,
                &format!("/api/v1/datasets/{}", ids[n]),
                Some(&server.admin),
            )
            .header(IF_MATCH, "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let identify = oai(&server, "verb=Identify", None).await;
    assert_eq!(elements(&identify, "deletedRecord"), ["persistent"]);
    assert_eq!(
        elements(&identify, "repositoryIdentifier"),
        ["fathom.localhost"]
    );
    let oai_id = |n: usize| format!("oai:fathom.localhost:{}", ids[n]);

    // Anonymous: datasets 0, 3, 5, 6, 7 and the deletion of 2, never 1 or 4, in order of change.
    let (listed, pages) =
        oai_list(&server, "verb=ListIdentifiers&metadataPrefix=oai_dc", None).await;
    let expected: Vec<String> = [0, 3, 5, 6, 7]
        .iter()
        .map(|&n| oai_id(n))
        .chain([format!("{} deleted", oai_id(2))])
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(
        pages[0].contains("completeListSize=\"6\"")
            && pages[0].contains("cursor=\"0\"")
            && pages[0].contains("expirationDate="),
        "{pages:?}"
    );
    assert!(
        pages[1].contains("completeListSize=\"6\"") && pages[1].contains("cursor=\"3\""),
        "{pages:?}"
    );
    let (records, _) = oai_list(&server, "verb=ListRecords&metadataPrefix=oai_dc", None).await;
    assert_eq!(records, expected);
    let (admin_listed, _) = oai_list(
        &server,
        "verb=ListRecords&metadataPrefix=dcat",
        Some(&server.admin),
    )
    .await;
    assert_eq!(
        admin_listed.len(),
        8,
        "the administrator sees 6 datasets and 2 deletions: {admin_listed:?}"
    );
    let (nhs, _) = oai_list(
        &server,
        "verb=ListIdentifiers&metadataPrefix=oai_dc&set=organisation:nhs",
        None,
    )
    .await;
    assert_eq!(nhs, [oai_id(6), oai_id(7)]);

    let record = oai(
        &server,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
            oai_id(0)
        ),
        None,
    )
    .await;
    assert_eq!(elements(&record, "dc:title"), ["Glider section 0"]);
    assert_eq!(elements(&record, "dc:publisher"), ["Org cmre"]);
    let dcat = oai(
        &server,
        &format!(
            "verb=GetRecord&metadataPrefix=dcat&identifier={}",
            oai_id(0)
        ),
        None,
    )
    .await;
    assert!(
        dcat.contains("<metadata><rdf:RDF") && dcat.contains("Glider section 0"),
        "{dcat}"
    );
    let deleted = oai(
        &server,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
            oai_id(2)
        ),
        None,
    )
    .await;
    assert!(
        deleted.contains("<header status=\"deleted\">") && !deleted.contains("<metadata>"),
        "{deleted}"
    );
    let sets = oai(&server, "verb=ListSets", None).await;
    assert_eq!(
        elements(&sets, "setSpec"),
        ["organisation", "organisation:cmre", "organisation:nhs"]
    );
    let formats = oai(
        &server,
        &format!("verb=ListMetadataFormats&identifier={}", oai_id(0)),
        None,
    )
    .await;
    assert_eq!(
        elements(&formats, "metadataPrefix"),
        ["oai_dc", "dcat", "iso19139"]
    );
    let iso = oai(
        &server,
        &format!(
            "verb=GetRecord&metadataPrefix=iso19139&identifier={}",
            oai_id(0)
        ),
        None,
    )
    .await;
    assert!(
        iso.contains("<metadata><gmd:MD_Metadata xmlns:gmd=") && iso.contains("Glider section 0"),
        "{iso}"
    );

    // A secret record is unknown to an anonymous harvester, exactly like one that never existed.
    let hidden = oai(
        &server,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
            oai_id(1)
        ),
        None,
    )
    .await;
    let never = oai(&server, "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:fathom.localhost:01a21548-2209-7573-a035-abcfaae70b2c", None).await;
    assert_eq!(oai_error(&hidden).as_deref(), Some("idDoesNotExist"));
    let message = |xml: &str| {
        elements(xml, "error")[0]
            .replace(&ids[1], "ID")
            .replace("01a21548-2209-7573-a035-abcfaae70b2c", "ID")
    };
    assert_eq!(message(&hidden), message(&never));
    let admin_hidden = oai(
        &server,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
            oai_id(1)
        ),
        Some(&server.admin),
    )
    .await;
    assert_eq!(elements(&admin_hidden, "dc:title"), ["Glider section 1"]);

    let first_page = oai(&server, "verb=ListRecords&metadataPrefix=oai_dc", None).await;
    let token = elements(&first_page, "resumptionToken")[0].to_owned();
    let (payload, signature) = token.split_once('.').unwrap();
    let tampered = format!("{}A.{signature}", &payload[..payload.len() - 1]);
    for (query, code) in [
        ("", "badVerb"),
        ("verb=Harvest", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=Identify&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=dcat",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-01",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01&until=2024-01-01T00:00:00Z",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2025-01-02&until=2025-01-01",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=abc",
            "badArgument",
        ),
        ("verb=ListRecords&resumptionToken=abc", "badResumptionToken"),
        (
            &format!("verb=ListRecords&resumptionToken={tampered}"),
            "badResumptionToken",
        ),
        ("verb=ListSets&resumptionToken=abc", "badResumptionToken"),
        (
            "verb=ListRecords&metadataPrefix=marc21",
            "cannotDisseminateFormat",
        ),
        (
            &format!("verb=GetRecord&metadataPrefix=iso&identifier={}", oai_id(0)),
            "cannotDisseminateFormat",
        ),
        (
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=urn:x",
            "idDoesNotExist",
        ),
        (
            "verb=ListMetadataFormats&identifier=oai:elsewhere.org:1",
            "idDoesNotExist",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2100-01-01",
            "noRecordsMatch",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=organisation:none",
            "noRecordsMatch",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=projects",
            "noRecordsMatch",
        ),
    ] {
        let xml = oai(&server, query, None).await;
        assert_eq!(oai_error(&xml).as_deref(), Some(code), "{query}: {xml}");
        let request = &xml[xml.find("<request").unwrap()..];
        let echoed = request.starts_with("<request ");
        assert_eq!(
            echoed,
            !matches!(code, "badVerb" | "badArgument"),
            "{query}: {request}"
        );
    }
    // The same by POST; and a POST that is not a form.
    let posted = server
        .request(Method::POST, "/oai", None)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("verb=ListIdentifiers&metadataPrefix=oai_dc&set=organisation%3Anhs")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(elements(&posted, "identifier"), [oai_id(6), oai_id(7)]);
    let json = server
        .request(Method::POST, "/oai", None)
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(json, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

/// Records of other catalogues (here, Fathom's own exports) are imported idempotently by their
/// identifier; each record is reported, a bad one costs only itself.
async fn imports_are_idempotent_and_report_each_record(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    server.with_organisation("nhs").await;
    let mut body = ctd("cmre", "Glider section, Ligurian Sea");
    body["security_label"] = json!({"classification": "NATO RESTRICTED", "categories": [{"tag": "ReleasableTo", "values": ["NOR"]}]});
    body["distributions"] = json!([{"title": "NetCDF", "access_url": "https://data.example.org/g.nc", "format": "NetCDF"}]);
    let created = server
        .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
        .await;
    let original: Value = created.json().await.unwrap();
    let id = original["id"].as_str().unwrap();
    let read = |format: &'static str| {
        let request = server.request(
            Method::GET,
            &format!("/api/v1/datasets/{id}?format={format}"),
            Some(&server.admin),
        );
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let iso = read("iso19139").await;
    let import = |query: &str, content_type: &'static str, document: String, token: &str| {
        let request = server
            .request(
                Method::POST,
                &format!("/api/v1/imports?{query}"),
                Some(token),
            )
            .header(CONTENT_TYPE, content_type)
            .body(document);
        async move { request.send().await.unwrap() }
    };
    let report: Value = import(
        "organisation=nhs",
        "application/vnd.iso.19139+xml",
        iso.clone(),
        &server.admin,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (report["created"].as_u64(), report["failed"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    let record = &report["records"][0];
    assert_eq!(
        (record["identifier"].as_str(), record["status"].as_str()),
        (Some(id), Some("created"))
    );
    let copy: Value = server
        .request(
            Method::GET,
            &format!("/api/v1/datasets/{}", record["dataset"].as_str().unwrap()),
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(copy["organisation"], "nhs");
    for field in [
        "title",
        "keywords",
        "spatial",
        "temporal",
        "security_label",
        "license",
    ] {
        assert_eq!(copy[field], original[field], "{field}");
    }
    assert_eq!(
        copy["distributions"][0]["access_url"],
        original["distributions"][0]["access_url"]
    );
    assert_eq!(
        copy["identifiers"][0], id,
        "the foreign identifier is kept first"
    );

    // Again: unchanged. Changed: updated, in place.
    let again: Value = import(
        "organisation=nhs&format=iso19139",
        "application/xml",
        iso.clone(),
        &server.admin,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["records"][0]["status"], "unchanged", "{again}");
    let changed = iso.replace(
        "Glider section, Ligurian Sea",
        "Glider section, Ligurian Sea (calibrated)",
    );
    let updated: Value = import(
        "organisation=nhs",
        "application/vnd.iso.19139+xml",
        changed,
        &server.admin,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (
            updated["records"][0]["status"].as_str(),
            &updated["records"][0]["dataset"]
        ),
        (Some("updated"), &record["dataset"])
    );

    // The same record as DCAT-AP Turtle: the title back as it was, then nothing more to do.
    let turtle = read("ttl").await;
    for expected in ["updated", "unchanged"] {
        let dcat: Value = import(
            "organisation=nhs",
            "text/turtle",
            turtle.clone(),
            &server.admin,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(dcat["records"][0]["status"], expected, "{dcat}");
        assert_eq!(dcat["records"][0]["dataset"], record["dataset"]);
    }
    // A document that does not parse, and a hostile one: a failed record each, nothing else.
    let broken: Value = import(
        "organisation=cmre&format=dcat-ttl",
        "text/plain",
        "<a> <b> .".into(),
        &server.admin,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(broken["failed"], 1);
    assert!(
        broken["records"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not parse"),
        "{broken}"
    );
    let hostile = "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>".to_owned();
    let refused: Value = import(
        "organisation=cmre",
        "application/vnd.iso.19139+xml",
        hostile,
        &server.admin,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        refused["records"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("DOCTYPE"),
        "{refused}"
    );

    problem(
        import(
            "organisation=cmre",
            "application/vnd.iso.19139+xml",
            iso.clone(),
            &server.editor,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        import(
            "organisation=none",
            "application/vnd.iso.19139+xml",
            iso.clone(),
            &server.admin,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        import(
            "organisation=cmre&format=marc",
            "application/xml",
            iso.clone(),
            &server.admin,
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        import("organisation=cmre", "application/xml", iso, &server.admin).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

/// Starts a job of a harvest source and waits for its end; returns the job.
async fn harvest_now(server: &Server, source: &str) -> Value {
    let started = server
        .request(
            Method::POST,
            &format!("/api/v1/harvest-sources/{source}/jobs"),
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let id = started.json::<Value>().await.unwrap()["id"].clone();
    for _ in 0..300 {
        let jobs: Value = server
            .request(
                Method::GET,
                &format!("/api/v1/harvest-sources/{source}/jobs"),
                Some(&server.admin),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let job = jobs
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .unwrap()
            .clone();
        if job["status"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the job of {source} did not end in 30 s");
}

/// A second Fathom harvests this one over OAI-PMH (incrementally, with deletions) and as DCAT
/// pages (reconciling what vanished); a crashed job does not block the next; bad sources fail their
/// job with the reason.
async fn harvesting_reconciles_a_changing_source(db: TestStore) {
    let upstream = Server::start_with(
        TestStore::sqlite().await,
        |settings| settings.oai_page_size = 2,
        |_| {},
    )
    .await;
    upstream.with_organisation("cmre").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut body = ctd("cmre", &format!("Towed array run {n}"));
        if n == 4 {
            body["security_label"] = json!({"classification": "NATO SECRET"});
        }
        let created = upstream
            .send_json(Method::POST, "/api/v1/datasets", &upstream.admin, &body)
            .await;
        ids.push(
            created.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let server = Server::start(db).await;
    server.with_organisation("partners").await;
    let add = |body: Value| {
        let server = &server;
        async move {
            server
                .send_json(
                    Method::POST,
                    "/api/v1/harvest-sources",
                    &server.admin,
                    &body,
                )
                .await
        }
    };
    let oai = add(
        json!({"name": "upstream-oai", "kind": "oai_pmh", "url": format!("{}/oai", upstream.base),
        "organisation": "partners", "requests_per_second": 100}),
    )
    .await;
    assert_eq!(oai.status(), StatusCode::CREATED);

    // The first run: the 4 datasets an anonymous harvester may see, over 2 pages and more.
    let job = harvest_now(&server, "upstream-oai").await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["created"].as_u64(),
            job["failed"].as_u64()
        ),
        (Some("succeeded"), Some(4), Some(0)),
        "{job}"
    );
    assert!(job["requests"].as_u64().unwrap() >= 2, "{job}");
    let partners = |server: &Server| {
        let request = server.request(
            Method::GET,
            "/api/v1/datasets?organisation=partners&limit=100",
            Some(&server.admin),
        );
        async move {
            request.send().await.unwrap().json::<Value>().await.unwrap()["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let harvested = partners(&server).await;
    assert_eq!(harvested.len(), 4);
    let copy_of =
        |items: &[Value], id: &str| items.iter().find(|d| d["identifiers"][0] == id).cloned();
    assert!(
        copy_of(&harvested, &ids[4]).is_none(),
        "the secret one is not harvested"
    );

    // Upstream changes one and deletes one; the next run asks for what changed since.
    let patched = upstream
        .patch_first_revision(
            &format!("/api/v1/datasets/{}", ids[0]),
            r#"{"title": "Towed array run 0, reprocessed"}"#,
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let deleted = upstream
        .delete_first_revision(&format!("/api/v1/datasets/{}", ids[1]))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let job = harvest_now(&server, "upstream-oai").await;
    assert!(
        job["changed_since"].is_string(),
        "an incremental run: {job}"
    );
    assert_eq!(
        (
            job["updated"].as_u64(),
            job["retired"].as_u64(),
            job["created"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{job}"
    );
    let harvested = partners(&server).await;
    assert_eq!(
        copy_of(&harvested, &ids[0]).unwrap()["title"],
        "Towed array run 0, reprocessed"
    );
    assert_eq!(copy_of(&harvested, &ids[1]).unwrap()["state"], "retired");

    // The same catalogue as DCAT pages; a dataset that vanishes upstream is retired.
    let dcat = add(json!({"name": "upstream-dcat", "kind": "dcat", "url": format!("{}/api/v1/catalog?limit=2", upstream.base),
        "organisation": "partners", "requests_per_second": 100})).await;
    assert_eq!(dcat.status(), StatusCode::CREATED);
    let job = harvest_now(&server, "upstream-dcat").await;
    let listed = ["created", "updated", "unchanged"]
        .iter()
        .map(|k| job[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(
        (job["status"].as_str(), listed, job["failed"].as_u64()),
        (Some("succeeded"), 3, Some(0)),
        "{job}"
    );
    let deleted = upstream
        .delete_first_revision(&format!("/api/v1/datasets/{}", ids[2]))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let job = harvest_now(&server, "upstream-dcat").await;
    assert_eq!(
        (job["retired"].as_u64(), job["unchanged"].as_u64()),
        (Some(1), Some(2)),
        "{job}"
    );
    assert_eq!(
        copy_of(&partners(&server).await, &ids[2]).unwrap()["state"],
        "retired"
    );

    // A harvester that died mid-job left it running; its lease expires and the next run goes on.
    let source: Value = server
        .request(
            Method::GET,
            "/api/v1/harvest-sources/upstream-oai",
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let source_id = uuid::Uuid::parse_str(source["id"].as_str().unwrap()).unwrap();
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let stuck = fathom_model::HarvestJob::start(uuid::Uuid::now_v7(), source_id, long_ago, None);
    assert!(
        server
            .db
            .store
            .begin_harvest_job(&stuck, long_ago + time::Duration::minutes(5), long_ago)
            .await
            .unwrap()
    );
    let job = harvest_now(&server, "upstream-oai").await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let jobs: Value = server
        .request(
            Method::GET,
            "/api/v1/harvest-sources/upstream-oai/jobs",
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let interrupted = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == stuck.id.to_string())
        .unwrap();
    assert_eq!(interrupted["status"], "failed");
    assert!(
        interrupted["message"]
            .as_str()
            .unwrap()
            .contains("lease expired"),
        "{interrupted}"
    );

    // Sources that answer something else, or nothing, fail their job with the reason.
    for (name, url, reason) in [
        ("not-oai", format!("{}/healthz", upstream.base), "not XML"),
        (
            "nobody",
            "http://127.0.0.1:9/oai".to_owned(),
            "cannot reach",
        ),
        ("missing", format!("{}/oai-nowhere", upstream.base), "404"),
    ] {
        let added =
            add(json!({"name": name, "kind": "oai_pmh", "url": url, "organisation": "partners"}))
                .await;
        assert_eq!(added.status(), StatusCode::CREATED);
        let job = harvest_now(&server, name).await;
        assert_eq!(job["status"], "failed", "{job}");
        assert!(
            job["message"].as_str().unwrap().contains(reason),
            "{name}: {job}"
        );
    }
    let invalid =
        add(json!({"name": "x", "kind": "ftp", "url": "ftp://x", "organisation": "nowhere"})).await;
    let problem = problem(invalid, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(pointers(&problem), ["/kind", "/url"]);
    let duplicate = add(json!({"name": "upstream-oai", "kind": "dcat", "url": "https://x.org/", "organisation": "partners"})).await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let denied = server
        .request(Method::GET, "/api/v1/harvest-sources", Some(&server.editor))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
}

/// A CKAN portal and a CSW 2.0.2 catalogue, as a fixture server answers them (packages in CKAN's
/// JSON; ISO 19139 records in `GetRecordsResponse` pages), harvested page by page; a package that
/// vanishes is retired; an exception report fails the job with its text.
async fn harvesting_reads_ckan_portals_and_csw_catalogues(db: TestStore) {
    use axum::extract::{Query, State};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Fixture {
        packages: Arc<Mutex<Vec<Value>>>,
        records: Arc<Mutex<Vec<String>>>,
        queries: Arc<Mutex<Vec<HashMap<String, String>>>>,
        in_flight: Arc<std::sync::atomic::AtomicUsize>,
        most_in_flight: Arc<std::sync::atomic::AtomicUsize>,
    }
    async fn package_search(
        State(fixture): State<Fixture>,
        Query(query): Query<HashMap<String, String>>,
    ) -> axum::Json<Value> {
        fixture.queries.lock().unwrap().push(query.clone());
        // Slow pages, to see how many the harvester asks for at once.
        use std::sync::atomic::Ordering;
        let now = fixture.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        fixture.most_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        fixture.in_flight.fetch_sub(1, Ordering::SeqCst);
        let packages = fixture.packages.lock().unwrap().clone();
        let start: usize = query["start"].parse().unwrap();
        let rows: usize = query["rows"].parse().unwrap();
        let page: Vec<Value> = packages.iter().skip(start).take(rows).cloned().collect();
        axum::Json(json!({"success": true, "result": {"count": packages.len(), "results": page}}))
    }
    async fn exception() -> &'static str {
        r#"<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows"><ows:Exception><ows:ExceptionText>the catalogue is being rebuilt</ows:ExceptionText></ows:Exception></ows:ExceptionReport>"#
    }
    async fn csw(
        State(fixture): State<Fixture>,
        Query(query): Query<HashMap<String, String>>,
    ) -> String {
        assert_eq!(query["request"], "GetRecords");
        let records = fixture.records.lock().unwrap().clone();
        let start: usize = query["startPosition"].parse().unwrap();
        let max: usize = query["maxRecords"].parse().unwrap();
        let page: Vec<&String> = records.iter().skip(start - 1).take(max).collect();
        let next = if start - 1 + page.len() < records.len() {
            start + page.len()
        } else {
            0
        };
        format!(
            r#"<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"><csw:SearchStatus timestamp="2026-11-26T00:00:00Z"/><csw:SearchResults numberOfRecordsMatched="{}" numberOfRecordsReturned="{}" nextRecord="{next}" recordSchema="http://www.isotc211.org/2005/gmd">{}</csw:SearchResults></csw:GetRecordsResponse>"#,
            records.len(),
            page.len(),
            page.iter().map(|r| r.as_str()).collect::<String>()
        )
    }
    let fixture = Fixture::default();
    for n in 0..450 {
        fixture.packages.lock().unwrap().push(json!({
            "id": format!("5f0c-{n:04}"), "name": format!("buoy-record-{n}"), "title": format!("Buoy record {n}"),
            "notes": "Wave height and period.", "license_id": "CC-BY-4.0",
            "metadata_created": "2024-01-02T03:04:05.123456", "metadata_modified": "2024-02-03T04:05:06",
            "tags": [{"name": "waves"}, {"name": "buoy"}],
            "author": "Met Office", "author_email": "data@example.org",
            "extras": [{"key": "spatial", "value": "{\"type\":\"Polygon\",\"coordinates\":[[[-10,50],[2,50],[2,60],[-10,60],[-10,50]]]}"}],
            "resources": [{"url": format!("https://portal.example.org/buoy/{n}.csv"), "name": "CSV", "format": "CSV", "mimetype": "text/csv"}]
        }));
    }
    // The CSW answers ISO 19139 records, here those a Fathom writes.
    let upstream = Server::start(TestStore::sqlite().await).await;
    upstream.with_organisation("cmre").await;
    for n in 0..5 {
        let created = upstream
            .send_json(
                Method::POST,
                "/api/v1/datasets",
                &upstream.admin,
                &ctd("cmre", &format!("Glider leg {n}")),
            )
            .await;
        let id = created.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let iso = upstream
            .get(&format!("/api/v1/datasets/{id}?format=iso19139"))
            .await
            .text()
            .await
            .unwrap();
        fixture
            .records
            .lock()
            .unwrap()
            .push(iso.split_once("?>").unwrap().1.trim().to_owned());
    }
    let app = axum::Router::new()
        .route(
            "/ckan/api/3/action/package_search",
            axum::routing::get(package_search),
        )
        .route("/csw", axum::routing::get(csw))
        .route("/csw-down", axum::routing::get(exception))
        .route(
            "/loop/api/3/action/package_search",
            axum::routing::get(|| async {
                axum::response::Redirect::temporary("/loop/api/3/action/package_search")
            }),
        )
        .route(
            "/endless",
            axum::routing::get(|| async {
                let chunk = bytes::Bytes::from(vec![b'<'; 1 << 20]);
                let chunks =
                    futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
                axum::body::Body::from_stream(chunks)
            }),
        )
        .with_state(fixture.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fixture_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let server = Server::start(db).await;
    server.with_organisation("partners").await;
    for (name, kind, url) in [
        ("portal", "ckan", format!("{fixture_base}/ckan")),
        ("csw", "csw", format!("{fixture_base}/csw")),
    ] {
        let body = json!({"name": name, "kind": kind, "url": url, "organisation": "partners", "requests_per_second": 100});
        let added = server
            .send_json(
                Method::POST,
                "/api/v1/harvest-sources",
                &server.admin,
                &body,
            )
            .await;
        assert_eq!(added.status(), StatusCode::CREATED);
    }
    let job = harvest_now(&server, "portal").await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["created"].as_u64(),
            job["requests"].as_u64()
        ),
        (Some("succeeded"), Some(450), Some(5)),
        "{job}"
    );
    let copy: Value = server
        .request(
            Method::GET,
            "/api/v1/datasets?organisation=partners&keyword=waves&limit=1",
            Some(&server.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let copy = &copy["items"][0];
    assert_eq!(
        (copy["license"].as_str(), copy["spatial"]["bbox"].clone()),
        (Some("CC-BY-4.0"), json!([-10.0, 50.0, 2.0, 60.0])),
        "{copy}"
    );
    assert_eq!(copy["distributions"][0]["media_type"], "text/csv");
    // The second run asks CKAN for what changed since the first; the portal drops a package.
    fixture.packages.lock().unwrap().pop();
    let job = harvest_now(&server, "portal").await;
    let asked = fixture.queries.lock().unwrap().last().unwrap().clone();
    assert!(asked["fq"].starts_with("metadata_modified:["), "{asked:?}");
    assert_eq!(job["unchanged"].as_u64(), Some(449), "{job}");
    let most = fixture
        .most_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (2..=3).contains(&most),
        "pages after the first are fetched a few at a time: {most}"
    );

    let job = harvest_now(&server, "csw").await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["created"].as_u64(),
            job["failed"].as_u64()
        ),
        (Some("succeeded"), Some(5), Some(0)),
        "{job}"
    );
    fixture.records.lock().unwrap().remove(0);
    let job = harvest_now(&server, "csw").await;
    assert_eq!(
        (job["retired"].as_u64(), job["unchanged"].as_u64()),
        (Some(1), Some(4)),
        "{job}"
    );
    let broken = json!({"name": "broken-csw", "kind": "csw", "url": format!("{fixture_base}/csw-down"), "organisation": "partners"});
    server
        .send_json(
            Method::POST,
            "/api/v1/harvest-sources",
            &server.admin,
            &broken,
        )
        .await;
    let job = harvest_now(&server, "broken-csw").await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["message"]
            .as_str()
            .unwrap()
            .contains("the catalogue is being rebuilt"),
        "{job}"
    );
    // A portal that redirects for ever, and a catalogue that never stops answering.
    for (name, kind, path, reason) in [
        ("looping", "ckan", "/loop", "too many redirects"),
        ("endless", "csw", "/endless", "more than 64 MiB"),
    ] {
        let body = json!({"name": name, "kind": kind, "url": format!("{fixture_base}{path}"), "organisation": "partners"});
        server
            .send_json(
                Method::POST,
                "/api/v1/harvest-sources",
                &server.admin,
                &body,
            )
            .await;
        let job = harvest_now(&server, name).await;
        assert_eq!(job["status"], "failed", "{job}");
        assert!(
            job["message"].as_str().unwrap().contains(reason),
            "{name}: {job}"
        );
    }
}

/// SPARQL over the DCAT-AP graph: every query form sees only the datasets its caller may read; the
/// graph follows changes; bad, runaway and oversized queries are refused with the reason.
async fn sparql_sees_only_what_its_caller_may_see(db: TestStore) {
    let server = Server::start_with(
        db,
        |settings| settings.sparql = Some(std::time::Duration::from_secs(2)),
        |_| {},
    )
    .await;
    server.with_organisation("cmre").await;
    let mut ids = Vec::new();
    for (n, label) in [
        None,
        None,
        None,
        Some(json!({"classification": "NATO SECRET"})),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = ctd("cmre", &format!("Sonar survey {n}"));
        if let Some(label) = label {
            body["security_label"] = label;
        }
        let created = server
            .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
            .await;
        ids.push(
            created.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let sparql = |query: &str, token: Option<&str>, accept: &'static str| {
        let request = server
            .request(Method::GET, "/api/v1/sparql", token)
            .query(&[("query", query)])
            .header("accept", accept);
        async move { request.send().await.unwrap() }
    };
    let titles = "PREFIX dct: <http://purl.org/dc/terms/> PREFIX dcat: <http://www.w3.org/ns/dcat#> \
        SELECT ?title WHERE { ?d a dcat:Dataset ; dct:title ?title } ORDER BY ?title";
    let select = |token: Option<&'static str>| {
        let request = sparql(titles, token, "application/sparql-results+json");
        async move {
            let response = request.await;
            assert_eq!(
                response.headers()[CONTENT_TYPE],
                "application/sparql-results+json"
            );
            let results: Value = response.json().await.unwrap();
            results["results"]["bindings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["title"]["value"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let admin: &'static str = Box::leak(server.admin.clone().into_boxed_str());
    assert_eq!(
        select(None).await,
        ["Sonar survey 0", "Sonar survey 1", "Sonar survey 2"]
    );
    assert_eq!(select(Some(admin)).await.len(), 4);

    // No query form, graph pattern or FROM clause reaches the secret dataset.
    let secret = format!("<{}/api/v1/datasets/{}>", server.base, ids[3]);
    for query in [
        format!("ASK {{ {secret} ?p ?o }}"),
        format!("ASK {{ GRAPH ?g {{ {secret} ?p ?o }} }}"),
        format!("ASK FROM {secret} {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), \"survey 3\")) }}"),
        "ASK { ?s ?p \"Sonar survey 3\" }".to_owned(),
    ] {
        let answer: Value = sparql(&query, None, "application/sparql-results+json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["boolean"], false, "{query}");
        let admin_answer: Value = sparql(&query, Some(admin), "application/sparql-results+json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(admin_answer["boolean"], true, "{query}");
    }
    let construct = sparql(
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        None,
        "text/turtle",
    )
    .await;
    assert_eq!(construct.headers()[CONTENT_TYPE], "text/turtle");
    let turtle = construct.text().await.unwrap();
    assert!(
        turtle.contains("Sonar survey 0") && !turtle.contains("Sonar survey 3"),
        "{turtle}"
    );
    let xml = sparql(titles, None, "application/sparql-results+xml").await;
    assert_eq!(
        xml.headers()[CONTENT_TYPE],
        "application/sparql-results+xml"
    );
    assert!(
        xml.text()
            .await
            .unwrap()
            .contains("<literal>Sonar survey 1</literal>")
    );
    let csv = sparql(titles, None, "text/csv").await.text().await.unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "title",
            "Sonar survey 0",
            "Sonar survey 1",
            "Sonar survey 2"
        ]
    );

    // The graph follows the catalogue.
    let patched = server
        .patch_first_revision(
            &format!("/api/v1/datasets/{}", ids[0]),
            r#"{"title": "Sonar survey 0, cleaned"}"#,
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let deleted = server
        .delete_first_revision(&format!("/api/v1/datasets/{}", ids[1]))
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        select(None).await,
        ["Sonar survey 0, cleaned", "Sonar survey 2"]
    );

    // By POST, as a query and as a form.
    for (content_type, body) in [
        ("application/sparql-query", titles.to_owned()),
        (
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string([("query", titles)]).unwrap(),
        ),
    ] {
        let response = server
            .request(Method::POST, "/api/v1/sparql", None)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{content_type}");
    }
    let json = server
        .request(Method::POST, "/api/v1/sparql", None)
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    problem(json, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    // Refusals: syntax, updates, oversized and runaway queries.
    let bad = problem(
        sparql("SELECT ?x WHERE { ?x ", None, "*/*").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad["type"], "urn:fathom:problem:sparql-syntax");
    problem(
        sparql(
            "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
            Some(admin),
            "*/*",
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(server.get("/api/v1/sparql").await, StatusCode::BAD_REQUEST).await;
    let big = problem(
        sparql(
            &format!(
                "SELECT * WHERE {{ ?a ?b ?c VALUES ?x {{ {} }} }}",
                (0..500)
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            None,
            "*/*",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(big["type"], "urn:fathom:problem:query-too-large");
    let runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }";
    let slow = problem(
        sparql(runaway, None, "*/*").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(slow["type"], "urn:fathom:problem:query-timeout");

    // Where SPARQL is off, the endpoint says so.
    let off = Server::start_with(
        TestStore::sqlite().await,
        |settings| settings.sparql = None,
        |_| {},
    )
    .await;
    let refused = problem(
        off.get("/api/v1/sparql?query=ASK%7B%7D").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(refused["type"], "urn:fathom:problem:sparql-off");
}

/// A token is checked against the database at most once per TTL: a revocation made elsewhere (here,
/// straight in the store, as another replica would) takes effect within it; one made here, at once.
async fn tokens_are_trusted_for_a_bounded_time(db: TestStore) {
    let ttl = std::time::Duration::from_millis(300);
    let identity = Services::new(
        db.store.clone(),
        std::sync::Arc::new(fathom_model::Policy::default_policy()),
        ServiceSettings {
            authentication_ttl: ttl,
            ..Default::default()
        },
    )
    .unwrap()
    .identity;
    let issued = identity
        .create_token("ops", Role::Editor, "", None)
        .await
        .unwrap();
    assert_eq!(
        identity.authenticate(&issued.secret).await.unwrap().name,
        "ops"
    );
    let revoked = fathom_store::testing::audit_entry("token_revoked", &issued.id.to_string());
    db.store
        .revoke_token(issued.id, fathom_store::now(), &revoked)
        .await
        .unwrap();
    assert!(
        identity.authenticate(&issued.secret).await.is_ok(),
        "trusted within the TTL"
    );
    tokio::time::sleep(ttl + std::time::Duration::from_millis(50)).await;
    assert!(identity.authenticate(&issued.secret).await.is_err());

    let other = identity
        .create_token("ops", Role::Editor, "", None)
        .await
        .unwrap();
    assert!(identity.authenticate(&other.secret).await.is_ok());
    identity.revoke_token(other.id).await.unwrap();
    assert!(identity.authenticate(&other.secret).await.is_err());
}

async fn browsers_get_security_headers_and_cors_for_allowed_origins(db: TestStore) {
    let server = Server::start(db).await;
    for (path, policy) in [
        ("/api/v1/datasets", "default-src 'none'"),
        ("/api/v1/nothing-here", "default-src 'none'"),
        ("/docs/", "default-src 'self'"),
    ] {
        let response = server.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with(policy),
            "{path}"
        );
    }
    let preflight = |origin: &'static str| {
        server
            .request(Method::OPTIONS, "/api/v1/datasets", None)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight(PORTAL).await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(allowed.headers()["access-control-allow-origin"], PORTAL);
    assert_eq!(allowed.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        allowed.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'",
        "a preflight answer carries the security headers too"
    );
    assert!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let read = server
        .request(Method::GET, "/api/v1/datasets", None)
        .header("origin", PORTAL)
        .send()
        .await
        .unwrap();
    assert_eq!(read.headers()["access-control-allow-origin"], PORTAL);
    assert!(
        read.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("etag")
    );
}

async fn failed_authentications_are_rate_limited(db: TestStore) {
    let server = Server::start(db).await;
    let anonymous = server.get("/api/v1/datasets").await;
    assert_eq!(anonymous.status(), StatusCode::OK);
    assert!(anonymous.headers().contains_key("ratelimit-remaining"));
    let wrong = || {
        server
            .request(Method::GET, "/api/v1/datasets", Some("fthm_not-a-token"))
            .send()
    };
    for _ in 0..FAILURES_PER_MINUTE {
        problem(wrong().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    }
    let limited = wrong().await.unwrap();
    let retry_after: u64 = limited.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    // The address is held back whatever it sends, until its bucket refills; health checks are not.
    problem(
        server.get("/api/v1/datasets").await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
}

async fn users_and_tokens_are_managed_by_admins(db: TestStore) {
    let server = Server::start(db).await;
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
struct Provider {
    process: std::process::Child,
    issuer: String,
    keys: std::path::PathBuf,
}

const OIDC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/oidc");

impl Provider {
    /// Starts the provider signing with the key in `keys` (made when missing), on `port` or a free one.
    fn start(keys: &std::path::Path, port: Option<u16>) -> Self {
        use std::io::BufRead;
        let mut command = std::process::Command::new("node");
        command
            .current_dir(OIDC_DIR)
            .arg("provider.mjs")
            .arg("serve")
            .arg(keys);
        if let Some(port) = port {
            command.arg(port.to_string());
        }
        let mut process = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs tests/oidc/provider.mjs");
        let mut line = String::new();
        std::io::BufReader::new(process.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
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
    if !std::path::Path::new(OIDC_DIR)
        .join("node_modules/oidc-provider")
        .exists()
    {
        assert!(
            std::env::var("CI").is_err(),
            "tests/oidc/node_modules is missing: .ci/run installs it (npm ci)"
        );
        eprintln!("skipped: run `npm ci` in tests/oidc to test OIDC");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (first_keys, second_keys) = (
        dir.path().join("first.json"),
        dir.path().join("second.json"),
    );
    let provider = Provider::start(&first_keys, None);
    let issuer = provider.issuer.clone();
    let mut config = fathom_service::OidcConfig::new(&issuer, "urn:fathom:api");
    config.refresh_interval = std::time::Duration::from_millis(100);
    let server = Server::start_with(
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
    let rotated = Provider::start(&second_keys, Some(port));
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

async fn metrics_count_requests_by_route_template(db: TestStore) {
    let server = Server::start(db).await;
    for _ in 0..3 {
        problem(
            server
                .get(&format!("/api/v1/datasets/{}", uuid_like()))
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
    let response = server.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} in\n{text}"))
    };
    assert_eq!(
        value(
            r#"fathom_http_requests_total{route="/api/v1/datasets/{key}",method="GET",status="4xx"}"#
        ),
        3.0
    );
    assert_eq!(
        value(r#"fathom_http_requests_total{route="/healthz",method="GET",status="2xx"}"#),
        1.0
    );
    assert_eq!(
        value(
            r#"fathom_http_request_duration_seconds_count{route="/api/v1/datasets/{key}",method="GET"}"#
        ),
        3.0
    );
    assert!(text.contains(
        r#"fathom_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="0.0005"}"#
    ));
    let build = format!(
        "fathom_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&build), 1.0);
    assert_eq!(value("fathom_search_documents"), 0.0);
    assert_eq!(value("fathom_search_lag_changes"), 0.0);
    assert!(
        !text.contains(&uuid_like().to_string()),
        "no path, only route templates, in the labels"
    );
    // The database: its pools, and how long each operation takes (by operation, never by record).
    let pool = if server.db.url().is_some() {
        "shared"
    } else {
        "read"
    };
    assert!(
        text.contains(&format!(
            r#"fathom_db_pool_connections{{pool="{pool}",state="idle"}}"#
        )),
        "{text}"
    );
    assert!(
        value(r#"fathom_db_operation_duration_seconds_count{operation="dataset_json"}"#) >= 3.0,
        "the three reads were timed"
    );
    assert!(text.contains(
        r#"fathom_db_operation_duration_seconds_bucket{operation="dataset_json",le="0.00005"}"#
    ));
}

/// The AsyncAPI document lists every event type; readiness and metrics report a target that cannot
/// be reached as degraded, with what waits for it, while the replica stays ready.
async fn events_are_described_and_their_targets_reported(db: TestStore) {
    let unreachable = fathom_events::Target::Amqp(fathom_events::AmqpTarget::new(
        "amqp://guest:guest@127.0.0.1:1/%2f",
        "fathom.events",
    ));
    let relay = fathom_events::Relay::new(
        db.store.clone(),
        fathom_events::RelayConfig {
            poll: std::time::Duration::from_millis(20),
            ..Default::default()
        },
    )
    .spawn(vec![unreachable]);
    let server = Server::start_with(db, |settings| settings.relay = relay.health(), |_| {}).await;
    server.with_organisation("cmre").await;
    let created = server
        .send_json(
            Method::POST,
            "/api/v1/datasets",
            &server.admin,
            &ctd("cmre", "CTD"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let mut ready = Value::Null;
    for _ in 0..200 {
        ready = server.get("/readyz").await.json().await.unwrap();
        if ready["events"][0]["state"] == "degraded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        ready["status"], "ready",
        "a degraded target leaves the replica ready"
    );
    assert_eq!(ready["events"][0]["target"], "amqp");
    assert_eq!(ready["events"][0]["state"], "degraded", "{ready}");
    assert!(
        ready["events"][0]["error"]
            .as_str()
            .unwrap()
            .contains("RabbitMQ")
    );
    assert!(
        ready["events"][0]["pending"].as_i64().unwrap() >= 2,
        "the organisation and the dataset"
    );

    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"fathom_outbox_pending_events{target="amqp"}"#),
        "{metrics}"
    );

    let asyncapi: Value = server
        .get("/api/v1/asyncapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    let addresses: Vec<&str> = asyncapi["channels"]
        .as_object()
        .unwrap()
        .values()
        .map(|channel| channel["address"].as_str().unwrap())
        .collect();
    for address in [
        "org.fathom.dataset.published",
        "fathom.dataset.published",
        "org.fathom.organisation.deleted",
    ] {
        assert!(addresses.contains(&address), "{address} in {addresses:?}");
    }
    relay.stop(std::time::Duration::from_secs(1)).await;
}

/// A webhook receiver on a loopback port: checks each delivery's signature, records what it got, and
/// fails (500) or hangs when told to.
#[derive(Clone, Default)]
struct Receiver {
    secret: std::sync::Arc<std::sync::Mutex<String>>,
    /// Verified deliveries, in arrival order.
    received: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
    /// Every attempt's `webhook-id`.
    attempts: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Attempts still to fail with 500; -1: hang past the timeout, for ever; -2: accept, then send
    /// an answer that never ends.
    failing: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Receiver {
    async fn start(&self) -> String {
        use axum::routing::post;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hook", post(Self::receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    async fn receive(
        axum::extract::State(receiver): axum::extract::State<Self>,
        headers: axum::http::HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        use std::sync::atomic::Ordering::SeqCst;
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        let id = header(fathom_events::WEBHOOK_ID_HEADER);
        receiver.attempts.lock().unwrap().push(id.clone());
        let failing = receiver.failing.load(SeqCst);
        if failing == -1 {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            return axum::http::StatusCode::NO_CONTENT.into_response();
        }
        if failing > 0 {
            receiver.failing.fetch_sub(1, SeqCst);
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        let key = fathom_events::secret_key(&receiver.secret.lock().unwrap()).unwrap();
        let timestamp: i64 = header(fathom_events::TIMESTAMP_HEADER).parse().unwrap();
        let expected = format!("v1,{}", fathom_events::sign(&key, &id, timestamp, &body));
        if header(fathom_events::SIGNATURE_HEADER) != expected {
            return axum::http::StatusCode::UNAUTHORIZED.into_response();
        }
        assert!(
            (time::OffsetDateTime::now_utc().unix_timestamp() - timestamp).abs() < 60,
            "a fresh timestamp"
        );
        assert_eq!(header("content-type"), "application/cloudevents+json");
        let event: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(event["id"].as_str(), Some(id.as_str()));
        receiver.received.lock().unwrap().push(event);
        if failing == -2 {
            let chunk = axum::body::Bytes::from(vec![b'x'; 64 * 1024]);
            let endless =
                futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            return (
                axum::http::StatusCode::OK,
                axum::body::Body::from_stream(endless),
            )
                .into_response();
        }
        axum::http::StatusCode::NO_CONTENT.into_response()
    }

    fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..500 {
            if self.received().len() >= count {
                return self.received();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{} of {count} deliveries arrived", self.received().len());
    }
}

/// Webhooks: admins subscribe a URL; events of the subscribed types that the owner may see arrive
/// signed, in order; a failing receiver is retried; one that hangs past the timeout ends in a dead
/// letter, which an admin redelivers; bad subscriptions are refused.
async fn webhooks_deliver_signed_events_their_owner_may_see(db: TestStore) {
    use std::sync::atomic::Ordering::SeqCst;
    let relay = std::sync::Arc::new(
        fathom_events::Relay::new(
            db.store.clone(),
            fathom_events::RelayConfig {
                poll: std::time::Duration::from_millis(20),
                backoff_max: std::time::Duration::from_millis(100),
                ..Default::default()
            },
        )
        .spawn(Vec::new()),
    );
    let server = Server::start_with(
        db,
        |settings| {
            settings.webhooks = fathom_service::WebhookSettings {
                timeout: std::time::Duration::from_millis(300),
                max_attempts: 3,
                ..Default::default()
            }
        },
        |_| {},
    )
    .await;
    let sync = server
        .services
        .webhooks
        .clone()
        .spawn_sync(std::sync::Arc::clone(&relay));
    server.with_organisation("cmre").await;
    let receiver = Receiver::default();
    let url = receiver.start().await;

    let subscribe = async |body: Value, token: &str| {
        server
            .send_json(Method::POST, "/api/v1/webhooks", token, &body)
            .await
    };
    let refused = subscribe(json!({"url": "ftp://hooks.example.org/"}), &server.admin).await;
    assert_eq!(
        pointers(&problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/url"]
    );
    let refused = subscribe(
        json!({"url": url, "event_types": ["org.fathom.dataset.craeted"], "owner": "nobody"}),
        &server.admin,
    )
    .await;
    assert_eq!(
        pointers(&problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await),
        ["/event_types/0", "/owner"]
    );
    problem(
        subscribe(json!({"url": url}), &server.editor).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let made = subscribe(
        json!({"url": url, "event_types": ["org.fathom.dataset.*"], "owner": "vi"}),
        &server.admin,
    )
    .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    *receiver.secret.lock().unwrap() = made["secret"].as_str().unwrap().to_owned();
    let id = made["id"].as_str().unwrap().to_owned();
    let listed: Value = server
        .request(Method::GET, "/api/v1/webhooks", Some(&server.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], made["id"]);
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );

    // What the owner (a viewer without clearance) may see, and only dataset events.
    let create = async |body: Value| {
        server
            .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
            .await
    };
    let public: Value = create(ctd("cmre", "Public CTD"))
        .await
        .json()
        .await
        .unwrap();
    let mut restricted = ctd("cmre", "Restricted CTD");
    restricted["security_label"] = json!({"classification": "NATO RESTRICTED"});
    assert_eq!(create(restricted).await.status(), StatusCode::CREATED);
    server.with_organisation("nhs").await;
    let patched = server
        .request(
            Method::PATCH,
            &format!("/api/v1/datasets/{}", public["id"].as_str().unwrap()),
            Some(&server.admin),
        )
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .header(IF_MATCH, "\"1\"")
        .body(json!({"title": "Public CTD, QC"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let received = receiver.wait_for(2).await;
    let told: Vec<(&str, &str)> = received
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            ("org.fathom.dataset.created", "Public CTD"),
            ("org.fathom.dataset.updated", "Public CTD, QC")
        ],
        "nothing the owner may not see, no organisation event"
    );

    // A receiver that fails twice gets the event on the third attempt.
    receiver.failing.store(2, SeqCst);
    create(ctd("cmre", "Retried CTD")).await;
    let received = receiver.wait_for(3).await;
    let retried = received[2]["id"].as_str().unwrap();
    let attempts = receiver
        .attempts
        .lock()
        .unwrap()
        .iter()
        .filter(|a| *a == retried)
        .count();
    assert_eq!(attempts, 3);

    // One that hangs past the timeout: after three attempts the event is a dead letter.
    receiver.failing.store(-1, SeqCst);
    let doomed: Value = create(ctd("cmre", "Doomed CTD"))
        .await
        .json()
        .await
        .unwrap();
    let letters_path = format!("/api/v1/webhooks/{id}/dead-letters");
    let mut letters = Value::Null;
    for _ in 0..200 {
        letters = server
            .request(Method::GET, &letters_path, Some(&server.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if letters.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(letters[0]["attempts"], 3, "{letters}");
    assert!(
        letters[0]["error"].as_str().unwrap().contains("webhook"),
        "{letters}"
    );
    let seq = letters[0]["seq"].as_i64().unwrap();

    // The subscription goes on past it, and an admin redelivers it once the receiver is back.
    receiver.failing.store(0, SeqCst);
    create(ctd("cmre", "After the dead letter")).await;
    let received = receiver.wait_for(4).await;
    assert_eq!(received[3]["data"]["title"], "After the dead letter");
    let redeliver = format!("/api/v1/webhooks/{id}/dead-letters/{seq}/redeliver");
    let redelivered = server
        .request(Method::POST, &redeliver, Some(&server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(redelivered.status(), StatusCode::NO_CONTENT);
    let received = receiver.received();
    assert_eq!(received[4]["subject"], doomed["id"]);
    let letters: Value = server
        .request(Method::GET, &letters_path, Some(&server.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(letters, json!([]));
    problem(
        server
            .request(Method::POST, &redeliver, Some(&server.admin))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // An answer that never ends is not read: the delivery counts, and the next one follows.
    receiver.failing.store(-2, SeqCst);
    create(ctd("cmre", "Endless answer")).await;
    receiver.wait_for(6).await;
    receiver.failing.store(0, SeqCst);
    create(ctd("cmre", "After the endless answer")).await;
    let received = receiver.wait_for(7).await;
    assert_eq!(received[6]["data"]["title"], "After the endless answer");
    let letters: Value = server
        .request(Method::GET, &letters_path, Some(&server.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(letters, json!([]), "nothing given up on");

    // Once its owner is disabled, the subscription sends nothing more.
    server
        .db
        .store
        .disable_user(
            "vi",
            fathom_store::now(),
            &fathom_store::testing::audit_entry("user_disabled", "vi"),
        )
        .await
        .unwrap();
    for _ in 0..100 {
        if relay.targets().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        relay.targets().is_empty(),
        "the disabled owner's subscription stopped"
    );
    create(ctd("cmre", "After the owner left")).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 7);

    let path = format!("/api/v1/webhooks/{id}");
    let deleted = server
        .request(Method::DELETE, &path, Some(&server.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    problem(
        server
            .request(Method::GET, &path, Some(&server.admin))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        server
            .request(
                Method::GET,
                "/api/v1/webhooks/not-an-id",
                Some(&server.admin),
            )
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    sync.abort();
    relay.stop(std::time::Duration::from_secs(1)).await;
}

/// The sharing story end to end: a partner-nation scientist asks for a NATO RESTRICTED dataset; the
/// domain steward and then the security officer approve; the scientist finds and reads it (and only
/// it) until the grant ends, when it leaves their searches, facets and lists again.
async fn access_is_requested_approved_granted_and_ends(db: TestStore) {
    let store = db.store.clone();
    let policy = std::sync::Arc::new(fathom_model::Policy::default_policy());
    let mut settings = fathom_service::SharingSettings::for_policy(&policy);
    settings.groups = std::collections::BTreeMap::from([
        (
            "security_officers".into(),
            vec!["sofia".into(), "olaf".into()],
        ),
        ("auditors".into(), vec!["audrey".into()]),
    ]);
    let server = Server::start_with(
        db,
        move |services| services.sharing = Some(settings),
        |_| {},
    )
    .await;
    let sharing = server.services.sharing.clone();
    server.with_organisation("cmre").await;
    let person = |name: &str, clearance: &str, nationality: &str| NewUser {
        name: name.into(),
        role: Role::Viewer,
        clearance: Some(clearance.into()),
        nationality: Some(nationality.into()),
        communities: if nationality == "AUS" {
            vec![]
        } else {
            vec!["NATO".into()]
        },
        memberships: Vec::new(),
    };
    let dora = server
        .cleared_token(person("dora", "NATO SECRET", "ITA"))
        .await;
    let dan = server
        .cleared_token(person("dan", "NATO SECRET", "NOR"))
        .await;
    let sofia = server
        .cleared_token(person("sofia", "NATO SECRET", "ITA"))
        .await;
    let olaf = server.cleared_token(person("olaf", "PUBLIC", "ITA")).await;
    let audrey = server
        .cleared_token(person("audrey", "PUBLIC", "ITA"))
        .await;
    let sam = server
        .cleared_token(person("sam", "NATO RESTRICTED", "AUS"))
        .await;
    let eve = server
        .cleared_token(person("eve", "NATO RESTRICTED", "AUS"))
        .await;
    let domain =
        json!({"slug": "acoustics", "name": "Underwater acoustics", "stewards": ["dora", "dan"]});
    let response = server
        .send_json(Method::POST, "/api/v1/domains", &server.admin, &domain)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let restricted = json!({"classification": "NATO RESTRICTED",
        "categories": [{"tag": "ReleasableTo", "values": ["NATO"]}]});
    let create = |title: &str, label: Option<Value>| {
        let mut body = json!({"title": title, "organisation": "cmre", "domain": "acoustics",
            "keywords": ["sonar"]});
        if let Some(label) = label {
            body["security_label"] = label;
        }
        let server = &server;
        async move {
            let response = server
                .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
                .await;
            assert_eq!(response.status(), StatusCode::CREATED);
            let created: Value = response.json().await.unwrap();
            created["id"].as_str().unwrap().to_owned()
        }
    };
    let target = create("Sonar trials 2021", Some(restricted.clone())).await;
    let other = create("Sonar trials 2022", Some(restricted.clone())).await;
    let secret = create(
        "Sonar trials 2023",
        Some(json!({"classification": "NATO SECRET"})),
    )
    .await;
    let public = create("Sonar primer", None).await;
    server.search.catch_up().await.unwrap();

    let get = |path: String, token: &str| {
        let request = server.request(Method::GET, &path, Some(token));
        async move { request.send().await.unwrap() }
    };
    let act = |id: String, token: &str, body: Value, if_match: Option<&str>| {
        let mut request = server
            .request(
                Method::POST,
                &format!("/api/v1/access-requests/{id}/actions"),
                Some(token),
            )
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(tag) = if_match {
            request = request.header(IF_MATCH, tag);
        }
        async move { request.send().await.unwrap() }
    };
    // What the scientist finds: hits, the keyword facet's count, the list.
    let sees = |token: String| {
        let server = &server;
        async move {
            server.search.catch_up().await.unwrap();
            let found: Value = get("/api/v1/search?q=sonar&facets=keyword".into(), &token)
                .await
                .json()
                .await
                .unwrap();
            let hits: BTreeSet<String> = found["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(found["total"], hits.len());
            let sonar = found["facets"]["keyword"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["value"] == "sonar")
                .map_or(0, |f| f["count"].as_u64().unwrap());
            assert_eq!(sonar as usize, hits.len(), "facet counts match the hits");
            let list: Value = get("/api/v1/datasets?limit=100".into(), &token)
                .await
                .json()
                .await
                .unwrap();
            let listed: BTreeSet<String> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(hits, listed, "search and list agree");
            hits
        }
    };
    assert_eq!(sees(sam.clone()).await, BTreeSet::from([public.clone()]));
    assert_eq!(
        get(format!("/api/v1/datasets/{target}"), &sam)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Asking: by id only for what is hidden, never above the clearance, never for an unknown one.
    let ask = |token: &str, dataset: &str, end: time::OffsetDateTime| {
        let body = json!({"dataset": dataset, "purpose": "Model validation for the joint exercise",
            "end": end.format(&time::format_description::well_known::Rfc3339).unwrap()});
        let request = server
            .request(Method::POST, "/api/v1/access-requests", Some(token))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        async move { request.send().await.unwrap() }
    };
    let soon = fathom_store::now() + time::Duration::seconds(8);
    for (dataset, why) in [
        ("sonar-trials-2021".to_owned(), "a hidden dataset by slug"),
        (secret.clone(), "above the clearance"),
        (uuid::Uuid::now_v7().to_string(), "unknown"),
    ] {
        let refused = ask(&sam, &dataset, soon).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{why}");
    }
    assert_eq!(
        ask(&sam, &public, soon).await.status(),
        StatusCode::CONFLICT,
        "already readable"
    );
    let bad = server.send_json(Method::POST, "/api/v1/access-requests", &sam,
        &json!({"dataset": target, "purpose": "x", "start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"})).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["pointer"], "/end", "{problem}");
    let not_its_own = server
        .send_json(
            Method::POST,
            "/api/v1/access-requests",
            &sam,
            &json!({"dataset": target, "distribution": uuid::Uuid::now_v7(), "purpose": "x",
                "end": (fathom_store::now() + time::Duration::days(30)).date().to_string()}),
        )
        .await;
    assert_eq!(not_its_own.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = not_its_own.json().await.unwrap();
    assert_eq!(problem["errors"][0]["pointer"], "/distribution");
    let too_long = ask(
        &sam,
        &target,
        fathom_store::now() + time::Duration::days(400),
    )
    .await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let submitted = ask(&sam, &target, soon).await;
    assert_eq!(submitted.status(), StatusCode::CREATED);
    let request: Value = submitted.json().await.unwrap();
    let id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(request["state"], "submitted");
    assert_eq!(request["waiting_for"], json!(["dora", "dan"]));
    assert_eq!(
        request["steps"].as_array().unwrap().len(),
        2,
        "a release needs the security officer"
    );

    // The inbox, and who may not act.
    let inbox = |token: String| async move {
        let page: Value = get("/api/v1/inbox".into(), &token)
            .await
            .json()
            .await
            .unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(inbox(dora.clone()).await, vec![id.clone()]);
    assert!(inbox(sofia.clone()).await.is_empty());
    assert_eq!(
        get(format!("/api/v1/access-requests/{id}"), &eve)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(id.clone(), &eve, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(id.clone(), &sam, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(id.clone(), &sofia, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let unknown = act(id.clone(), &dora, json!({"action": "bless"}), None).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        act(id.clone(), &dora, json!({"action": "expire"}), None)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The steward approves, at the revision read; a stale one changes nothing.
    let approved = act(
        id.clone(),
        &dora,
        json!({"action": "approve", "comment": "fits the exercise"}),
        Some("\"1\""),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let request: Value = approved.json().await.unwrap();
    assert_eq!(
        (request["state"].clone(), request["waiting_for"].clone()),
        (json!("in_review"), json!(["sofia"])),
        "olaf is not cleared for the label: the chain leaves him out"
    );
    assert_eq!(
        act(
            id.clone(),
            &dan,
            json!({"action": "approve"}),
            Some("\"1\"")
        )
        .await
        .status(),
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        act(id.clone(), &dan, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "not an approver of step 2"
    );
    // An officer not cleared for the label cannot release it: he is no approver, and the
    // request is none of his business.
    assert_eq!(
        act(id.clone(), &olaf, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // A token that may only read acts on nothing.
    let read_only = server
        .identity
        .create_scoped_token(
            "sofia",
            Role::Viewer,
            "",
            None,
            Some(vec![fathom_model::Scope::Read]),
        )
        .await
        .unwrap()
        .secret;
    assert_eq!(
        act(id.clone(), &read_only, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The security officer approves, once, however often the client retries.
    let approve_once = || {
        server
            .request(
                Method::POST,
                &format!("/api/v1/access-requests/{id}/actions"),
                Some(&sofia),
            )
            .header(CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "approve-sam-1")
            .body(json!({"action": "approve"}).to_string())
            .send()
    };
    let first = approve_once().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["state"], "approved");
    assert!(first["grant"].is_string());
    let again = approve_once().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(
        act(id.clone(), &sofia, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let history: Vec<(String, String)> = first["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["actor"].as_str().unwrap().to_owned(),
                t["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("dora".to_owned(), "approve".to_owned()),
            ("sofia".to_owned(), "approve".to_owned())
        ]
    );

    // Now the scientist finds and reads it, and only it.
    assert_eq!(
        sees(sam.clone()).await,
        BTreeSet::from([public.clone(), target.clone()])
    );
    assert_eq!(
        get(format!("/api/v1/datasets/{target}"), &sam)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(format!("/api/v1/datasets/{other}"), &sam)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(format!("/api/v1/datasets/{secret}"), &sam)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sees(eve.clone()).await,
        BTreeSet::from([public.clone()]),
        "the grant is sam's alone"
    );
    // Read through a grant, the dataset is not asked for again, but one of its distributions may be.
    assert_eq!(
        ask(&sam, &target, soon).await.status(),
        StatusCode::CONFLICT
    );
    let distribution: Value = server
        .send_json(
            Method::POST,
            &format!("/api/v1/datasets/{target}/distributions"),
            &server.admin,
            &json!({"access_url": "https://data.example.org/sonar-2021.nc", "format": "NetCDF"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let for_distribution = server
        .send_json(
            Method::POST,
            "/api/v1/access-requests",
            &sam,
            &json!({"dataset": target, "distribution": distribution["id"], "purpose": "the raw files",
                "end": (fathom_store::now() + time::Duration::days(30)).date().to_string()}),
        )
        .await;
    assert_eq!(for_distribution.status(), StatusCode::CREATED);
    let for_distribution: Value = for_distribution.json().await.unwrap();
    assert_eq!(for_distribution["distribution"], distribution["id"]);
    let grants: Value = get("/api/v1/grants".into(), &sam)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grants["items"].as_array().unwrap().len(), 1);
    assert_eq!(grants["items"][0]["state"], "active");
    assert_eq!(grants["items"][0]["granted_by"], json!(["dora", "sofia"]));
    let holders: Value = get(format!("/api/v1/grants?dataset={target}"), &dora)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(holders["items"][0]["grantee"], json!({"user": "sam"}));
    assert_eq!(
        get(format!("/api/v1/grants?dataset={target}"), &sam)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(format!("/api/v1/grants?dataset={other}"), &eve)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Return, amend, withdraw; a withdrawn request takes no decision.
    let second: Value = ask(&sam, &other, soon + time::Duration::days(1))
        .await
        .json()
        .await
        .unwrap();
    let second = second["id"].as_str().unwrap().to_owned();
    assert_eq!(
        act(
            second.clone(),
            &dora,
            json!({"action": "return", "comment": "say which runs"}),
            None
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(inbox(sam.clone()).await, vec![second.clone()]);
    assert_eq!(
        act(second.clone(), &dora, json!({"action": "amend"}), None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let amended: Value = act(
        second.clone(),
        &sam,
        json!({"action": "amend", "comment": "runs 3 to 7"}),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(amended["state"], "submitted");
    assert_eq!(
        act(second.clone(), &sam, json!({"action": "withdraw"}), None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        act(second.clone(), &dora, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::CONFLICT
    );

    // Two stewards deciding at once on the same revision: exactly one transition.
    let third: Value = ask(&sam, &other, soon + time::Duration::days(1))
        .await
        .json()
        .await
        .unwrap();
    let third = third["id"].as_str().unwrap().to_owned();
    let (a, b) = tokio::join!(
        act(
            third.clone(),
            &dora,
            json!({"action": "approve"}),
            Some("\"1\"")
        ),
        act(
            third.clone(),
            &dan,
            json!({"action": "reject"}),
            Some("\"1\"")
        )
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert!(
        statuses == [200, 409] || statuses == [200, 412],
        "{statuses:?}"
    );
    let third_now: Value = get(format!("/api/v1/access-requests/{third}"), &sam)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(third_now["history"].as_array().unwrap().len(), 1);
    assert_eq!(third_now["revision"], 2);

    // A request whose dataset is deleted takes no decision, but can still be withdrawn.
    let fourth: Value = ask(&sam, &other, soon + time::Duration::days(1))
        .await
        .json()
        .await
        .unwrap();
    let fourth = fourth["id"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .delete_first_revision(&format!("/api/v1/datasets/{other}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        act(fourth.clone(), &dora, json!({"action": "approve"}), None)
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        act(fourth.clone(), &sam, json!({"action": "withdraw"}), None)
            .await
            .status(),
        StatusCode::OK
    );

    // The audit log: for auditors, chained, with the request ids.
    assert_eq!(
        get("/api/v1/audit".into(), &sam).await.status(),
        StatusCode::FORBIDDEN
    );
    let audit: Value = get("/api/v1/audit?limit=1000".into(), &audrey)
        .await
        .json()
        .await
        .unwrap();
    let entries = audit["items"].as_array().unwrap();
    let of = |event: &str| entries.iter().filter(|e| e["event"] == event).count();
    let third_approved = usize::from(third_now["state"] == "in_review");
    assert_eq!(
        (
            of("access_request_submitted"),
            of("access_request_approved"),
            of("access_request_rejected"),
            of("grant_created")
        ),
        (5, 2 + third_approved, 1 - third_approved, 1)
    );
    assert!(
        entries
            .iter()
            .filter(|e| e["event"] == "grant_created")
            .all(|e| e["details"]["request_id"].is_string())
    );
    assert!(store.verify_audit_chain().await.unwrap().broken.is_none());

    // The grant ends on time: the dataset leaves the scientist's searches, facets and lists.
    let wait = soon - fathom_store::now() + time::Duration::milliseconds(200);
    tokio::time::sleep(wait.try_into().unwrap_or_default()).await;
    assert_eq!(sees(sam.clone()).await, BTreeSet::from([public.clone()]));
    assert_eq!(
        get(format!("/api/v1/datasets/{target}"), &sam)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let swept = sharing.sweep(fathom_store::now()).await.unwrap();
    assert_eq!(swept.grants_ended, 1);
    let grants: Value = get(format!("/api/v1/grants?dataset={target}"), &dora)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grants["items"][0]["state"], "expired");
    let audit: Value = get("/api/v1/audit?limit=1000".into(), &audrey)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "grant_expired")
    );
}

/// Grants `user` the dataset `dataset` for a day, as an approval or an agreement would.
async fn grant(server: &Server, user: &str, dataset: uuid::Uuid) {
    let at = fathom_store::now();
    let grant = fathom_model::Grant {
        id: uuid::Uuid::now_v7(),
        dataset,
        distribution: None,
        grantee: fathom_model::Grantee::User(user.into()),
        period: fathom_model::Period {
            start: at - time::Duration::minutes(1),
            end: at + time::Duration::days(1),
        },
        purpose: "tests".into(),
        conditions: Vec::new(),
        source: fathom_model::GrantSource::Agreement(uuid::Uuid::nil()),
        granted_by: vec!["root".into()],
        revoked: None,
        created_at: at,
    };
    let notice = fathom_store::Notice {
        event: fathom_model::EventDraft {
            event_type: "org.fathom.grant.created".into(),
            sequence: 1,
            data: "{}".into(),
        },
        audit: fathom_store::AuditEvent {
            seq: 0,
            recorded_at: at,
            event: "grant_created".into(),
            actor: Some("root".into()),
            subject: Some(grant.id.to_string()),
            details: json!({}),
        },
    };
    server.db.store.insert_grant(&grant, &notice).await.unwrap();
}

/// An agreement between two organisations: written and proposed by the provider, accepted by the
/// recipient, it grants the recipient's members its datasets; terminated, it takes them back.
async fn agreements_yield_and_revoke_grants(db: TestStore) {
    let server = Server::start(db).await;
    for organisation in ["cmre", "ffi", "nurc"] {
        server.with_organisation(organisation).await;
    }
    let member = |name: &str, organisation: &str, role: OrganisationRole| NewUser {
        name: name.into(),
        role: Role::Viewer,
        clearance: Some("NATO RESTRICTED".into()),
        nationality: Some(if organisation == "cmre" { "ITA" } else { "NOR" }.into()),
        communities: vec!["NATO".into()],
        memberships: vec![Membership {
            organisation: Slug::parse(organisation).unwrap(),
            role,
        }],
    };
    let carla = server
        .cleared_token(member("carla", "cmre", OrganisationRole::Admin))
        .await;
    let frode = server
        .cleared_token(member("frode", "ffi", OrganisationRole::Admin))
        .await;
    let fiona = server
        .cleared_token(member("fiona", "ffi", OrganisationRole::Viewer))
        .await;
    let nils = server
        .cleared_token(member("nils", "nurc", OrganisationRole::Admin))
        .await;
    let italian = json!({"classification": "NATO RESTRICTED",
        "categories": [{"tag": "ReleasableTo", "values": ["ITA"]}]});
    let create = |organisation: &str, title: &str| {
        let body = json!({"title": title, "organisation": organisation, "keywords": ["acoustics"],
            "security_label": italian});
        let server = &server;
        async move {
            let response = server
                .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
                .await;
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let shared = create("cmre", "Towed array recordings").await;
    let kept = create("cmre", "Hull-mounted sonar recordings").await;
    let theirs = create("nurc", "Glider acoustics").await;
    let get = |path: String, token: &str| {
        let request = server.request(Method::GET, &path, Some(token));
        async move { request.send().await.unwrap() }
    };
    let post = |path: String, token: &str, body: Value| {
        let request = server
            .request(Method::POST, &path, Some(token))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        async move { request.send().await.unwrap() }
    };
    let in_a_month = (fathom_store::now() + time::Duration::days(30))
        .date()
        .to_string();
    let body = |datasets: Value, recipients: Value| {
        json!({"title": "Acoustic data for the joint exercise", "provider": "cmre",
            "recipients": recipients, "datasets": datasets, "end": in_a_month,
            "purpose": "joint exercise analysis", "prohibited": ["distribute"],
            "attribution": "Data: CMRE", "notify": "data@cmre.example.org"})
    };
    // Refusals: not the provider's admin, another organisation's dataset, an unknown recipient.
    let refused = post(
        "/api/v1/agreements".into(),
        &frode,
        body(json!([shared]), json!(["ffi"])),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused = post(
        "/api/v1/agreements".into(),
        &carla,
        body(json!([shared, theirs]), json!(["ffi", "nobody"])),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/recipients/1", "/datasets/1"]);

    let created = post(
        "/api/v1/agreements".into(),
        &carla,
        body(json!([shared]), json!(["ffi"])),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let agreement: Value = created.json().await.unwrap();
    let id = agreement["id"].as_str().unwrap().to_owned();
    assert_eq!(agreement["state"], "draft");
    let actions = format!("/api/v1/agreements/{id}/actions");
    assert_eq!(
        get(format!("/api/v1/agreements/{id}"), &fiona)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(format!("/api/v1/agreements/{id}"), &nils)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(actions.clone(), &nils, json!({"action": "terminate"}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(actions.clone(), &frode, json!({"action": "accept"}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        post(actions.clone(), &frode, json!({"action": "propose"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let proposed: Value = post(actions.clone(), &carla, json!({"action": "propose"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(proposed["state"], "proposed");
    let inbox: Value = get("/api/v1/inbox".into(), &frode)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["items"][0]["kind"], "agreement");
    assert_eq!(inbox["items"][0]["id"], id.as_str());
    let inbox: Value = get("/api/v1/inbox".into(), &carla)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["items"], json!([]), "the provider has signed");
    assert_eq!(
        post(actions.clone(), &fiona, json!({"action": "accept"}))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "a member who does not sign for ffi"
    );
    assert_eq!(
        get(format!("/api/v1/datasets/{shared}"), &fiona)
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "not in force yet"
    );
    let accepted = post(
        actions.clone(),
        &frode,
        json!({"action": "accept", "comment": "signed for FFI"}),
    )
    .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let active: Value = accepted.json().await.unwrap();
    assert_eq!(active["state"], "active");
    let signatures: Vec<(&str, &str)> = active["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["organisation"].as_str().unwrap(),
                s["by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(signatures, [("cmre", "carla"), ("ffi", "frode")]);
    assert_eq!(active["grants"].as_array().unwrap().len(), 1);

    // In force: the recipient's members read the shared dataset, and nothing else of it.
    server.search.catch_up().await.unwrap();
    let found = |token: String| async move {
        let page: Value = get(
            "/api/v1/search?q=recordings&facets=organisation".into(),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
        page["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(found(fiona.clone()).await, vec![shared.clone()]);
    assert_eq!(
        get(format!("/api/v1/datasets/{shared}"), &fiona)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        get(format!("/api/v1/datasets/{kept}"), &fiona)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(found(nils.clone()).await.is_empty());
    let grants: Value = get("/api/v1/grants".into(), &fiona)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        grants["items"][0]["grantee"],
        json!({"organisation": "ffi"})
    );
    assert_eq!(grants["items"][0]["source"], json!({"agreement": id}));
    assert!(
        grants["items"][0]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "no redistribution")
    );

    // The agreement in ODRL.
    let odrl = get(format!("/api/v1/agreements/{id}/odrl"), &fiona).await;
    assert_eq!(odrl.status(), StatusCode::OK);
    assert_eq!(odrl.headers()[CONTENT_TYPE], "application/ld+json");
    let odrl: Value = odrl.json().await.unwrap();
    assert_eq!(odrl["type"], "Agreement");
    assert_eq!(
        odrl["assigner"],
        format!("{}/api/v1/organisations/cmre", server.base)
    );
    assert_eq!(odrl["prohibition"][0]["action"], "distribute");

    // Terminated: the grants end at once.
    let terminated: Value = post(
        actions.clone(),
        &frode,
        json!({"action": "terminate", "comment": "exercise cancelled"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(terminated["state"], "terminated");
    assert_eq!(
        get(format!("/api/v1/datasets/{shared}"), &fiona)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(found(fiona.clone()).await.is_empty());
    let grants: Value = get("/api/v1/grants".into(), &fiona)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        grants["items"][0]["state"], "revoked",
        "a holder sees their own grants, ended ones too"
    );
    let grants: Value = get(format!("/api/v1/grants?dataset={shared}"), &carla)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grants["items"][0]["state"], "revoked");
    assert_eq!(
        post(actions.clone(), &carla, json!({"action": "propose"}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let audit: Value = get("/api/v1/audit?limit=1000".into(), &server.admin)
        .await
        .json()
        .await
        .unwrap();
    let events: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .filter(|e| e.starts_with("agreement_") || e.starts_with("grant_"))
        .collect();
    assert_eq!(
        events,
        [
            "agreement_created",
            "agreement_proposed",
            "agreement_accepted",
            "grant_created",
            "agreement_terminated",
            "grant_revoked"
        ]
    );
    // A dataset relabelled after the provider signed keeps the agreement from coming into force.
    let second: Value = post(
        "/api/v1/agreements".into(),
        &carla,
        body(json!([kept]), json!(["ffi"])),
    )
    .await
    .json()
    .await
    .unwrap();
    let second_actions = format!(
        "/api/v1/agreements/{}/actions",
        second["id"].as_str().unwrap()
    );
    post(second_actions.clone(), &carla, json!({"action": "propose"})).await;
    let narrowed = server
        .request(
            Method::PATCH,
            &format!("/api/v1/datasets/{kept}"),
            Some(&server.admin),
        )
        .header(IF_MATCH, "\"1\"")
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(
            json!({"security_label": {"classification": "NATO CONFIDENTIAL",
            "categories": [{"tag": "ReleasableTo", "values": ["ITA"]}]}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(narrowed.status(), StatusCode::OK);
    let refused = post(second_actions.clone(), &frode, json!({"action": "accept"})).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("relabelled")
    );

    // Audit queries by subject, actor and event.
    let query = |filter: String| {
        let request = server.request(
            Method::GET,
            &format!("/api/v1/audit?{filter}"),
            Some(&server.admin),
        );
        async move {
            let page: Value = request.send().await.unwrap().json().await.unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["event"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        query(format!("subject={id}")).await,
        [
            "agreement_created",
            "agreement_proposed",
            "agreement_accepted",
            "agreement_terminated"
        ]
    );
    assert_eq!(
        query("actor=frode&event=agreement_terminated".into()).await,
        ["agreement_terminated"]
    );
    assert!(query("actor=nobody".into()).await.is_empty());
}

/// Where a data domain reviews publication, a draft is submitted and a steward publishes it; a
/// published dataset changes through a working copy that is reviewed before it replaces it.
async fn publication_is_reviewed_where_the_domain_asks(db: TestStore) {
    let server = Server::start(db).await;
    server.with_organisation("cmre").await;
    let member = |name: &str, role: OrganisationRole| NewUser {
        name: name.into(),
        role: Role::Viewer,
        clearance: None,
        nationality: None,
        communities: Vec::new(),
        memberships: vec![Membership {
            organisation: Slug::parse("cmre").unwrap(),
            role,
        }],
    };
    let ed = server
        .cleared_token(member("edna", OrganisationRole::Editor))
        .await;
    let stella = server
        .cleared_token(member("stella", OrganisationRole::Steward))
        .await;
    let dora = server
        .cleared_token(NewUser {
            memberships: Vec::new(),
            ..member("dora", OrganisationRole::Viewer)
        })
        .await;
    let domain = json!({"slug": "acoustics", "name": "Underwater acoustics", "stewards": ["dora"],
        "publication_review": true});
    let response = server
        .send_json(Method::POST, "/api/v1/domains", &server.admin, &domain)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let send =
        |method: Method, path: String, token: &str, body: Value, if_match: Option<String>| {
            let mut request = server
                .request(method, &path, Some(token))
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
            if let Some(tag) = if_match {
                request = request.header(IF_MATCH, tag);
            }
            async move { request.send().await.unwrap() }
        };
    let act = |id: &str, token: &str, action: &str| {
        send(
            Method::POST,
            format!("/api/v1/datasets/{id}/actions"),
            token,
            json!({"action": action, "comment": format!("{action} by test")}),
            None,
        )
    };

    let mut body = ctd("cmre", "Towed array trials");
    body["domain"] = json!("acoustics");
    body["state"] = json!("published");
    let refused = send(
        Method::POST,
        "/api/v1/datasets".into(),
        &ed,
        body.clone(),
        None,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    body.as_object_mut().unwrap().remove("state");
    let created = send(
        Method::POST,
        "/api/v1/datasets".into(),
        &ed,
        body.clone(),
        None,
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let dataset: Value = created.json().await.unwrap();
    let id = dataset["id"].as_str().unwrap().to_owned();
    assert_eq!(dataset["state"], "draft");
    body["description"] = json!("Edited while a draft");
    let edited = send(
        Method::PUT,
        format!("/api/v1/datasets/{id}"),
        &ed,
        body.clone(),
        Some("\"1\"".into()),
    )
    .await;
    assert_eq!(
        edited.status(),
        StatusCode::OK,
        "a draft is written directly"
    );

    // Submitted, returned, submitted again, approved by a steward of the domain.
    assert_eq!(
        act(&id, &dora, "submit").await.status(),
        StatusCode::FORBIDDEN,
        "not an editor"
    );
    let submitted: Value = act(&id, &ed, "submit").await.json().await.unwrap();
    assert_eq!(submitted["state"], "in_review");
    assert_eq!(submitted["waiting_for"], json!(["dora", "stella"]));
    let inbox: Value = server
        .request(Method::GET, "/api/v1/inbox", Some(&dora))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        inbox["items"],
        json!([{"kind": "publication", "id": id, "href": format!("/api/v1/datasets/{id}/actions"),
        "state": "in_review", "deadline": null, "overdue": false}])
    );
    let own: Value = server
        .request(Method::GET, "/api/v1/inbox", Some(&ed))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        own["items"],
        json!([]),
        "nobody reviews what they submitted"
    );
    body["description"] = json!("Edited in review");
    let locked = send(
        Method::PUT,
        format!("/api/v1/datasets/{id}"),
        &ed,
        body.clone(),
        Some("\"3\"".into()),
    )
    .await;
    assert_eq!(locked.status(), StatusCode::CONFLICT);
    assert_eq!(
        act(&id, &ed, "approve").await.status(),
        StatusCode::FORBIDDEN
    );
    let returned: Value = act(&id, &dora, "return").await.json().await.unwrap();
    assert_eq!(returned["state"], "draft");
    act(&id, &ed, "submit").await;
    let stale = send(
        Method::POST,
        format!("/api/v1/datasets/{id}/actions"),
        &dora,
        json!({"action": "approve"}),
        Some("\"1\"".into()),
    )
    .await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let published: Value = act(&id, &dora, "approve").await.json().await.unwrap();
    assert_eq!(published["state"], "published");
    let read: Value = server
        .get(&format!("/api/v1/datasets/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["state"], "published");

    // A published dataset changes through its working copy.
    body["title"] = json!("Towed array trials, second edition");
    let direct = send(
        Method::PUT,
        format!("/api/v1/datasets/{id}"),
        &ed,
        body.clone(),
        Some(format!("\"{}\"", read["revision"])),
    )
    .await;
    assert_eq!(direct.status(), StatusCode::CONFLICT);
    let problem: Value = direct.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("working copy"),
        "{problem}"
    );
    let copy = send(
        Method::PUT,
        format!("/api/v1/datasets/{id}/working-copy"),
        &ed,
        body.clone(),
        None,
    )
    .await;
    assert_eq!(copy.status(), StatusCode::OK);
    let copy: Value = copy.json().await.unwrap();
    assert_eq!(
        (copy["title"].clone(), copy["state"].clone()),
        (json!("Towed array trials, second edition"), json!("draft"))
    );
    let viewer = server
        .request(
            Method::GET,
            &format!("/api/v1/datasets/{id}/working-copy"),
            Some(&server.viewer),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), StatusCode::FORBIDDEN);
    let unchanged: Value = server
        .get(&format!("/api/v1/datasets/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        unchanged["title"], "Towed array trials",
        "the published record stays until approval"
    );
    let copy_submitted: Value = act(&id, &stella, "submit").await.json().await.unwrap();
    assert_eq!(copy_submitted["working_copy"], "in_review");
    assert_eq!(
        send(
            Method::PUT,
            format!("/api/v1/datasets/{id}/working-copy"),
            &ed,
            body.clone(),
            None
        )
        .await
        .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        act(&id, &stella, "approve").await.status(),
        StatusCode::FORBIDDEN,
        "nobody approves what they submitted"
    );
    let approved: Value = act(&id, &dora, "approve").await.json().await.unwrap();
    assert_eq!(
        (approved["state"].clone(), approved["working_copy"].clone()),
        (json!("published"), Value::Null)
    );
    let replaced: Value = server
        .get(&format!("/api/v1/datasets/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["title"], "Towed array trials, second edition");
    assert_eq!(
        replaced["revision"].as_i64(),
        read["revision"].as_i64().map(|r| r + 1)
    );
    let gone = server
        .request(
            Method::GET,
            &format!("/api/v1/datasets/{id}/working-copy"),
            Some(&ed),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Deprecated, retired, and nothing after.
    assert_eq!(
        act(&id, &ed, "deprecate").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(act(&id, &dora, "deprecate").await.status(), StatusCode::OK);
    assert_eq!(act(&id, &dora, "retire").await.status(), StatusCode::OK);
    assert_eq!(act(&id, &ed, "submit").await.status(), StatusCode::CONFLICT);
    let workflow: Value = server
        .request(
            Method::GET,
            &format!("/api/v1/datasets/{id}/actions"),
            Some(&ed),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<(&str, &str, bool)> = workflow["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap(),
                s["actor"].as_str().unwrap(),
                s["working_copy"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("submit", "edna", false),
            ("return", "dora", false),
            ("submit", "edna", false),
            ("approve", "dora", false),
            ("submit", "stella", true),
            ("approve", "dora", true),
            ("deprecate", "dora", false),
            ("retire", "dora", false)
        ]
    );
    assert_eq!(workflow["history"][1]["comment"], "return by test");

    // Elsewhere, editors set the state directly.
    let plain: Value = send(
        Method::POST,
        "/api/v1/datasets".into(),
        &ed,
        ctd("cmre", "Plain"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(plain["state"], "published");
    assert_eq!(
        act(plain["id"].as_str().unwrap(), &ed, "submit")
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let audit: Value = server
        .request(Method::GET, "/api/v1/audit?limit=1000", Some(&server.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "publication_approved")
            .count(),
        2
    );
}

/// A label that lets more people read a dataset is a release: asked for by a steward, approved by
/// a release officer cleared for both labels who did not ask. Narrowing stays a direct write.
async fn labels_are_widened_only_by_release(db: TestStore) {
    let policy = std::sync::Arc::new(fathom_model::Policy::default_policy());
    let mut settings = fathom_service::SharingSettings::for_policy(&policy);
    settings.groups.insert(
        "release_officers".into(),
        vec!["rita".into(), "olaf".into(), "stew".into()],
    );
    let server = Server::start_with(
        db,
        move |services| services.sharing = Some(settings),
        |_| {},
    )
    .await;
    server.with_organisation("cmre").await;
    let person = |name: &str, clearance: &str, role: Option<OrganisationRole>| NewUser {
        name: name.into(),
        role: Role::Viewer,
        clearance: Some(clearance.into()),
        nationality: Some("NOR".into()),
        communities: vec!["NATO".into()],
        memberships: role
            .map(|role| Membership {
                organisation: Slug::parse("cmre").unwrap(),
                role,
            })
            .into_iter()
            .collect(),
    };
    let stew = server
        .cleared_token(person(
            "stew",
            "NATO SECRET",
            Some(OrganisationRole::Steward),
        ))
        .await;
    let edith = server
        .cleared_token(person(
            "edith",
            "NATO SECRET",
            Some(OrganisationRole::Editor),
        ))
        .await;
    let rita = server
        .cleared_token(person("rita", "NATO SECRET", None))
        .await;
    let olaf = server.cleared_token(person("olaf", "PUBLIC", None)).await;
    let mut body = ctd("cmre", "Mine hunting sonar trials");
    body["security_label"] = json!({"classification": "NATO RESTRICTED",
        "categories": [{"tag": "ReleasableTo", "values": ["NOR"]}]});
    let created: Value = server
        .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let patch = |token: &str, revision: i64, label: Value| {
        let request = server
            .request(
                Method::PATCH,
                &format!("/api/v1/datasets/{id}"),
                Some(token),
            )
            .header(IF_MATCH, format!("\"{revision}\""))
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body(json!({"security_label": label}).to_string());
        async move { request.send().await.unwrap() }
    };
    let widened = patch(
        &stew,
        1,
        json!({"classification": "NATO UNCLASSIFIED",
        "categories": [{"tag": "ReleasableTo", "values": ["NOR"]}]}),
    )
    .await;
    assert_eq!(widened.status(), StatusCode::CONFLICT);
    let problem: Value = widened.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("request_release")
    );
    let wider_release = patch(
        &stew,
        1,
        json!({"classification": "NATO RESTRICTED",
        "categories": [{"tag": "ReleasableTo", "values": ["NOR", "ITA"]}]}),
    )
    .await;
    assert_eq!(
        wider_release.status(),
        StatusCode::CONFLICT,
        "wider releasability is a release too"
    );
    let narrowed = patch(
        &stew,
        1,
        json!({"classification": "NATO CONFIDENTIAL",
        "categories": [{"tag": "ReleasableTo", "values": ["NOR"]}]}),
    )
    .await;
    assert_eq!(
        narrowed.status(),
        StatusCode::OK,
        "narrowing is a direct write"
    );

    let act = |token: &str, body: Value| {
        let request = server
            .request(
                Method::POST,
                &format!("/api/v1/datasets/{id}/actions"),
                Some(token),
            )
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        async move { request.send().await.unwrap() }
    };
    let public = json!({"classification": "PUBLIC"});
    assert_eq!(
        act(
            &edith,
            json!({"action": "request_release", "security_label": public})
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(&stew, json!({"action": "request_release"}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bad = act(
        &stew,
        json!({"action": "request_release", "security_label": {"classification": "SECRETISH"}}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(
        bad["errors"][0]["pointer"],
        "/security_label/classification"
    );
    assert_eq!(act(&stew, json!({"action": "request_release", "security_label": {"classification": "NATO SECRET", "categories": [{"tag": "ReleasableTo", "values": ["NOR"]}]}})).await.status(), StatusCode::CONFLICT, "a narrowing is no release");
    let asked = act(&stew, json!({"action": "request_release", "security_label": public, "comment": "trials are over"})).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(asked["release"]["state"], "submitted");
    assert_eq!(asked["release_waiting_for"], json!(["rita", "olaf"]));
    let inbox: Value = server
        .request(Method::GET, "/api/v1/inbox", Some(&rita))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["release"]);
    assert_eq!(
        act(
            &stew,
            json!({"action": "request_release", "security_label": public})
        )
        .await
        .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        act(&stew, json!({"action": "approve_release"}))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "not one's own"
    );
    assert_eq!(
        act(&olaf, json!({"action": "approve_release"}))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "olaf cannot even see it"
    );
    assert_eq!(
        server.get(&format!("/api/v1/datasets/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let approved = act(
        &rita,
        json!({"action": "approve_release", "comment": "approved for release"}),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["release"]["state"], "approved");
    let read = server.get(&format!("/api/v1/datasets/{id}")).await;
    assert_eq!(read.status(), StatusCode::OK, "released to everyone");
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["security_label"]["classification"], "PUBLIC");
    let audit: Value = server
        .request(Method::GET, "/api/v1/audit?limit=1000", Some(&server.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .filter(|e| e.starts_with("release_"))
        .collect();
    assert_eq!(events, ["release_submitted", "release_approved"]);
}
