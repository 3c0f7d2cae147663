//! Harvesting other catalogues: OAI-PMH, DCAT, CKAN and CSW sources.

use super::*;

fathom_store::on_both_backends!(
    harvesting_reconciles_a_changing_source,
    harvesting_reads_ckan_portals_and_csw_catalogues,
);

/// Starts a job of a harvest source and waits for its end; returns the job.
async fn harvest_now(server: &TestApp, source: &str) -> Value {
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
    let upstream = TestApp::start_with(
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
    let server = TestApp::start(db).await;
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
    let partners = |server: &TestApp| {
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
    let upstream = TestApp::start(TestStore::sqlite().await).await;
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

    let server = TestApp::start(db).await;
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
