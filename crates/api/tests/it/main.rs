//! The HTTP API end to end: a real server on a loopback port, on SQLite and on PostgreSQL. One test
//! binary (each file of `tests/` would be one to link); a module per family of routes, around the
//! `TestApp` here, which owns the request boilerplate.
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

mod datasets;
mod domain_model;
mod harvesting;
mod operations;
mod organisations;
mod pages;
mod search;
mod security;
mod sharing;
mod standards;
mod users;

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

struct TestApp {
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

impl TestApp {
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
        let pages =
            fathom_web::WebState::new(services.clone(), Default::default()).map(fathom_web::router);
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
        let app = fathom_api::app(state, &config, pages);
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

    /// The audit log's entries as the admin reads them (`GET /api/v1/audit?limit=1000`).
    async fn audit(&self) -> Vec<Value> {
        let audit: Value = self
            .request(Method::GET, "/api/v1/audit?limit=1000", Some(&self.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        audit["items"].as_array().unwrap().clone()
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

fn uuid_like() -> &'static str {
    "01990000-0000-7000-8000-000000000000"
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

/// An OAI-PMH request; asserts the response is XML with status 200 and returns its text.
async fn oai(server: &TestApp, query: &str, token: Option<&str>) -> String {
    let response = server
        .request(Method::GET, &format!("/oai?{query}"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    assert_eq!(response.headers()[CONTENT_TYPE], "text/xml; charset=utf-8");
    response.text().await.unwrap()
}

/// Grants `user` the dataset `dataset` for a day, as an approval or an agreement would.
async fn grant(server: &TestApp, user: &str, dataset: uuid::Uuid) {
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
