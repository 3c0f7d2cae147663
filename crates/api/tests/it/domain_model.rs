//! The domain model: entities, lineage and versions, vocabularies, profiles.

use super::*;

fathom_store::on_both_backends!(
    the_domain_model_is_managed_and_referenced,
    lineage_versions_and_history_respect_visibility,
    vocabularies_control_values_and_widen_searches,
    profiles_are_versioned_checked_for_compatibility_and_enforced,
);

async fn the_domain_model_is_managed_and_referenced(db: TestStore) {
    let server = TestApp::start(db).await;
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
    // The search page shows the entities among its facets by name, the filters' values kept.
    let page = server
        .get("/search?platform=rv-alliance")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="rv-alliance" checked><label for="platform-0">NRV Alliance <span class="count">2</span>"#),
        "{page}"
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
    let server = TestApp::start(db).await;
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
    // A past revision is read as JSON: another format, or none of the formats, is refused.
    for format in ["ttl", "xls"] {
        let refused = problem(
            server
                .get(&format!(
                    "/api/v1/datasets/{bathymetry}?as_of=2100-01-01&format={format}"
                ))
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(refused["errors"][0]["parameter"], "format");
    }
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
    const PLATFORM_TYPES: &str = include_str!("../../../fathom/vocabularies/platform-types.ttl");
    const PROPERTIES: &str = include_str!("../../../fathom/vocabularies/observed-properties.ttl");
    let server = TestApp::start(db).await;
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
    const CRUISE: &str = include_str!("../../../fathom/profiles/oceanographic-cruise-1.0.0.json");
    let server = TestApp::start(db).await;
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
