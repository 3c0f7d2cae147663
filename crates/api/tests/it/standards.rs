//! The standards of other catalogues: OGC API - Records, DCAT-AP, OAI-PMH, imports, SPARQL.

use super::*;

fathom_store::on_both_backends!(
    ogc_api_records_serves_the_catalogue,
    datasets_and_the_catalogue_speak_dcat_ap,
    oai_pmh_harvests_what_the_caller_may_see,
    imports_are_idempotent_and_report_each_record,
    sparql_sees_only_what_its_caller_may_see,
);

async fn ogc_api_records_serves_the_catalogue(db: TestStore) {
    let server = TestApp::start(db).await;
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

/// A dataset as DCAT-AP in each RDF syntax, chosen by `Accept` or `format`; the catalogue as pages
/// linked by Hydra views; refusals for what cannot be served.
async fn datasets_and_the_catalogue_speak_dcat_ap(db: TestStore) {
    let server = TestApp::start(db).await;
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
        ("*/*", "?format=oai_dc", "application/xml"),
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
            "application/xml" if query.contains("oai_dc") => assert!(
                body.contains("<oai_dc:dc") && body.contains("<dc:title>CTD casts 0</dc:title>"),
                "{body}"
            ),
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

fn oai_error(xml: &str) -> Option<String> {
    let start = xml.find("<error code=\"")? + 13;
    Some(xml[start..start + xml[start..].find('"')?].to_owned())
}

/// Follows a list's resumption tokens; returns every header's identifier (with ` deleted` after the
/// deleted ones) and the pages' `completeListSize` and `cursor` attributes.
async fn oai_list(
    server: &TestApp,
    first: &str,
    token: Option<&str>,
) -> (Vec<String>, Vec<String>) {
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
    let server = TestApp::start_with(db, |settings| settings.oai_page_size = 3, |_| {}).await;
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
        ["dcat", "iso19139", "oai_dc"],
        "in the order of the formats' list"
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
    let server = TestApp::start(db).await;
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

/// SPARQL over the DCAT-AP graph: every query form sees only the datasets its caller may read; the
/// graph follows changes; bad, runaway and oversized queries are refused with the reason.
async fn sparql_sees_only_what_its_caller_may_see(db: TestStore) {
    let server = TestApp::start_with(
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
    let off = TestApp::start_with(
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
