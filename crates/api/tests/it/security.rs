//! Security labels on every read path, their changes, tokens, browsers and rate limits.

use super::*;

fathom_store::on_both_backends!(
    security_labels_are_parsed_and_guarded,
    a_label_change_is_audited_only_when_it_commits,
    no_read_path_shows_what_its_reader_may_not_see,
    tokens_are_trusted_for_a_bounded_time,
    browsers_get_security_headers_and_cors_for_allowed_origins,
    failed_authentications_are_rate_limited,
);

async fn security_labels_are_parsed_and_guarded(db: TestStore) {
    let server = TestApp::start(db).await;
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
    let server = TestApp::start(db).await;
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

    let server = &TestApp::start(db).await;
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
    let mut slugs: BTreeMap<String, String> = BTreeMap::new();
    for n in 0..24 {
        let organisation = organisations[draw(2)];
        let mut body = json!({"title": format!("Survey {n}"), "organisation": organisation,
            "keywords": ["survey"], "spatial": {"bbox": [5.0, 40.0, 10.0, 45.0]},
            "distributions": [{"access_url": "https://data.example.org/x"}]});
        if let Some(label) = &labels[draw(labels.len())] {
            body["security_label"] = label.clone();
        }
        // A chain of derivations, for the lineage drawn on each dataset's page.
        if let Some((previous, _, _)) = datasets.last() {
            body["was_derived_from"] = json!([previous]);
        }
        let created = server
            .send_json(Method::POST, "/api/v1/datasets", &server.admin, &body)
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let created: Value = created.json().await.unwrap();
        let label = serde_json::from_value(created["security_label"].clone()).unwrap();
        slugs.insert(
            created["id"].as_str().unwrap().to_owned(),
            created["slug"].as_str().unwrap().to_owned(),
        );
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

        // The pages for people: each dataset's page, the search page and the home page show what
        // the policy lets this reader see, and are marked as the highest of it.
        let page = move |path: String| async move {
            let response = get(path.clone()).await;
            let status = response.status();
            (status, response.text().await.unwrap())
        };
        let shown_labels: Vec<SecurityLabel> = datasets
            .iter()
            .filter(|(id, _, _)| expected.contains(id.as_str()))
            .map(|(_, _, label)| label.clone())
            .collect();
        let banner = |labels: &[SecurityLabel]| {
            format!(
                "aria-label=\"Marking of this page\">{}</div>",
                fathom_model::Marking::of(&policy, labels).line()
            )
        };
        for (id, _, _) in &datasets {
            let (status, html) = page(format!("/datasets/{id}")).await;
            let title = format!(">Survey {}<", &slugs[id]["survey-".len()..]);
            if expected.contains(id.as_str()) {
                assert_eq!(status, StatusCode::OK, "{who}: page of {id}");
                assert!(html.contains(&title), "{who}: page of {id}");
                // Its lineage names its neighbours in the chain the reader may see, and draws the
                // others as restricted, with nothing of them shown.
                let at = datasets.iter().position(|(d, _, _)| d == id).unwrap();
                let neighbours = [at.checked_sub(1), Some(at + 1)];
                for neighbour in neighbours
                    .into_iter()
                    .flatten()
                    .filter_map(|n| datasets.get(n))
                {
                    let slug = &slugs[&neighbour.0];
                    let shown = html.contains(&format!("href=\"/datasets/{slug}\""));
                    assert_eq!(
                        shown,
                        expected.contains(neighbour.0.as_str()),
                        "{who}: lineage of {id}"
                    );
                    if !shown {
                        assert!(
                            !html.contains(slug.as_str()),
                            "{who}: {slug} named on {id}'s page"
                        );
                        assert!(
                            html.contains("class=\"node restricted\""),
                            "{who}: lineage of {id}"
                        );
                    }
                }
                // Marked as the highest of what it shows: itself and the datasets it links.
                let shown: Vec<SecurityLabel> = datasets
                    .iter()
                    .filter(|(other, _, _)| {
                        other == id
                            || html.contains(&format!("href=\"/datasets/{}\"", slugs[other]))
                    })
                    .map(|(_, _, label)| label.clone())
                    .collect();
                assert!(html.contains(&banner(&shown)), "{who}: {id} banner");
            } else {
                assert_eq!(status, StatusCode::NOT_FOUND, "{who}: page of {id}");
                assert!(!html.contains(&title), "{who}: the 404 of {id} names it");
            }
            for download in [
                "export/ttl",
                "export/iso19139",
                "citation.bib",
                "citation.ris",
            ] {
                let (status, _) = page(format!("/datasets/{id}/{download}")).await;
                let expected_status = if expected.contains(id.as_str()) {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(status, expected_status, "{who}: {download} of {id}");
            }
        }
        for query in ["q=survey&", "keyword=survey&", ""] {
            let (status, html) = page(format!("/search?{query}limit=100")).await;
            assert_eq!(status, StatusCode::OK, "{who}: search page");
            let linked: BTreeSet<String> = html
                .split("href=\"/datasets/")
                .skip(1)
                .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
                .collect();
            let expected_slugs: BTreeSet<String> =
                expected.iter().map(|id| slugs[*id].clone()).collect();
            assert_eq!(linked, expected_slugs, "{who}: search page hits");
            assert!(
                html.contains(&banner(&shown_labels)),
                "{who}: search page banner"
            );
            for organisation in organisations {
                let count = datasets
                    .iter()
                    .filter(|(id, o, _)| *o == organisation && expected.contains(id.as_str()))
                    .count();
                // The organisation's checkbox, and its label with the count.
                let choice = html
                    .split_once(&format!("name=\"organisation\" value=\"{organisation}\""))
                    .map(|(_, rest)| &rest[..rest.find("</label>").unwrap()]);
                assert_eq!(choice.is_some(), count > 0, "{who}: facet {organisation}");
                if let Some(choice) = choice {
                    let shown = format!("<span class=\"count\">{count}</span>");
                    assert!(
                        choice.contains(&shown),
                        "{who}: facet {organisation}: {choice}"
                    );
                }
            }
        }
        // The same search as a feed: its entries link exactly the datasets the reader may see.
        let (status, feed) = page("/search.atom?q=survey&limit=100".to_owned()).await;
        assert_eq!(status, StatusCode::OK, "{who}: feed");
        let fed: BTreeSet<String> = feed
            .split("/datasets/")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
            .collect();
        let expected_slugs: BTreeSet<String> =
            expected.iter().map(|id| slugs[*id].clone()).collect();
        assert_eq!(fed, expected_slugs, "{who}: feed entries");
        // An organisation's page lists some of its datasets, and counts them all, as the reader
        // may see them.
        for organisation in organisations {
            let (status, html) = page(format!("/organisations/{organisation}")).await;
            assert_eq!(status, StatusCode::OK, "{who}: organisation {organisation}");
            let linked: BTreeSet<String> = html
                .split("href=\"/datasets/")
                .skip(1)
                .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
                .collect();
            assert!(
                linked.is_subset(&expected_slugs),
                "{who}: {organisation} page"
            );
            let count = datasets
                .iter()
                .filter(|(id, o, _)| *o == organisation && expected.contains(id.as_str()))
                .count();
            if count > 1 {
                assert!(
                    html.contains(&format!("All {count} datasets in a search")),
                    "{who}: {organisation} count"
                );
            }
        }
        let (status, home) = page("/".to_owned()).await;
        assert_eq!(status, StatusCode::OK, "{who}: home");
        assert!(
            home.contains(&format!("All {} datasets you may see", expected.len())),
            "{who}: home total"
        );
        for classification in classifications {
            let count = shown_labels
                .iter()
                .filter(|label| &label.classification == classification)
                .count();
            let row = format!("<span>{classification}</span> <span class=\"count\">{count}</span>");
            assert_eq!(
                home.contains(&row),
                count > 0,
                "{who}: home count of {classification}"
            );
        }
    }
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
    let server = TestApp::start(db).await;
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
    let server = TestApp::start(db).await;
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
