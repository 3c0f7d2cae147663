//! Search: words, place, time, filters and facets.

use super::*;

fathom_store::on_both_backends!(search_finds_by_words_place_time_and_filters,);

async fn search_finds_by_words_place_time_and_filters(db: TestStore) {
    let server = TestApp::start(db).await;
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
    let lag = |server: &TestApp| {
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
    assert_eq!(words["total"], 1, "every word must match");
    assert!(words.get("ignored_words").is_none());
    assert_eq!(
        search("q=bathymetry%20multibeam&match=any").await["total"],
        2,
        "with match=any, any word: the glider record mentions bathymetry too"
    );
    assert_eq!(
        titles(&search("q=bathymetry%20-multibeam").await),
        ["Glider sections across the Ligurian front"],
        "-word excludes"
    );
    assert_eq!(
        search("q=-multibeam").await["total"],
        3,
        "exclusions alone: everything else"
    );
    // No dataset has every word: the last words are left out, and said.
    let fewer = search("q=glider%20bathymetry%20zanzibar%20quokka").await;
    assert_eq!(
        titles(&fewer),
        ["Glider sections across the Ligurian front"]
    );
    assert_eq!(fewer["ignored_words"], json!(["zanzibar", "quokka"]));
    assert_eq!(
        search("q=zanzibar%20quokka").await["total"],
        0,
        "the first word is never left out"
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
