//! Organisations, which publish datasets.

use super::*;

fathom_store::on_both_backends!(organisations_are_managed_by_admins,);

async fn organisations_are_managed_by_admins(db: TestStore) {
    let server = TestApp::start(db).await;
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
