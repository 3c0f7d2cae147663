//! What operators and systems read: health, the API description, metrics, events, webhooks.

use super::*;

fathom_store::on_both_backends!(
    health_and_request_ids,
    the_api_describes_itself,
    metrics_count_requests_by_route_template,
    events_are_described_and_their_targets_reported,
    webhooks_deliver_signed_events_their_owner_may_see,
);

async fn health_and_request_ids(db: TestStore) {
    let server = TestApp::start(db).await;
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

async fn the_api_describes_itself(db: TestStore) {
    let server = TestApp::start(db).await;
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

async fn metrics_count_requests_by_route_template(db: TestStore) {
    let server = TestApp::start(db).await;
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
    let server = TestApp::start_with(db, |settings| settings.relay = relay.health(), |_| {}).await;
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
    let server = TestApp::start_with(
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
