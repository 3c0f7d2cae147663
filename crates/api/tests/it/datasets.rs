//! Datasets: their revisions, bad input, permissions, lists, idempotency and distributions.

use super::*;

fathom_store::on_both_backends!(
    datasets_live_through_their_revisions,
    bad_input_is_refused_with_a_pointer_and_writes_nothing,
    writes_need_a_token_with_the_right_role,
    lists_page_by_cursor_with_filters,
    idempotency_keys_replay_the_first_response,
    distributions_are_a_sub_resource,
);

async fn datasets_live_through_their_revisions(db: TestStore) {
    let server = TestApp::start(db).await;
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
    let server = TestApp::start(db).await;
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

    let cases: [(Value, &[&str]); 8] = [
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
        // What does not parse and what does not exist, in one answer.
        (
            json!({"title": "x", "organisation": "nobody", "spatial": {"bbox": [0, -95, 10, 10]},
                "platforms": ["no-such-ship", "Not A Slug"]}),
            &[
                "/organisation",
                "/platforms/0",
                "/platforms/1",
                "/spatial/bbox",
            ],
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
    let server = TestApp::start(db).await;
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
    let server = TestApp::start(db).await;
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
    let server = TestApp::start(db).await;
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
    let server = TestApp::start(db).await;
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
