//! The sharing workflows: access requests, agreements, publication review, releases.

use super::*;

fathom_store::on_both_backends!(
    access_is_requested_approved_granted_and_ends,
    agreements_yield_and_revoke_grants,
    publication_is_reviewed_where_the_domain_asks,
    labels_are_widened_only_by_release,
);

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
    let server = TestApp::start_with(
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

/// An agreement between two organisations: written and proposed by the provider, accepted by the
/// recipient, it grants the recipient's members its datasets; terminated, it takes them back.
async fn agreements_yield_and_revoke_grants(db: TestStore) {
    let server = TestApp::start(db).await;
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
    let audit = server.audit().await;
    let events: Vec<&str> = audit
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
    let server = TestApp::start(db).await;
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
    let audit = server.audit().await;
    assert_eq!(
        audit
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
    let server = TestApp::start_with(
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
    let audit = server.audit().await;
    let events: Vec<&str> = audit
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .filter(|e| e.starts_with("release_"))
        .collect();
    assert_eq!(events, ["release_submitted", "release_approved"]);
}
