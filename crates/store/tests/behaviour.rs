//! The store's behaviour, run identically on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use fathom_model::Role;
use fathom_store::testing::{TestStore, audit_entry, dataset, organisation};
use fathom_store::{
    ApiToken, DatasetFilter, DatasetLink, DatasetUpdate, EntityType, HarvestFilter, Harvested,
    IdempotencyClaim, Operation, PageRequest, Position, RecordKey, Store, StoreError, User, Walk,
    now,
};
use time::Duration;
use uuid::Uuid;

fathom_store::on_both_backends!(
    records_read_back_as_written,
    writes_are_revisioned_and_fed_in_order,
    stale_and_missing_writes_are_refused,
    unique_slugs_and_references_are_enforced,
    a_failed_batch_writes_nothing,
    deleting_keeps_history,
    a_dataset_tells_which_ways_its_links_go,
    every_organisation_is_read_by_slug_past_a_page,
    lists_filter_and_page_by_keyset,
    tokens_expire_and_revoke,
    idempotency_keys_are_claimed_once,
    a_claim_notes_what_its_request_wrote,
    concurrent_writers_are_fed_in_commit_order,
    every_change_writes_its_event,
    a_refused_change_writes_no_event,
    an_event_target_is_held_by_one_relay,
    delivered_events_are_pruned,
    harvests_list_changes_and_deletions_in_order,
    a_server_secret_is_made_once,
    the_audit_log_is_a_hash_chain_that_shows_tampering,
);

const ALL: PageRequest = PageRequest {
    after: None,
    limit: 1000,
};

async fn with_org(store: &Store, slug: &str) {
    store
        .insert_organisation(&organisation(slug), "tester")
        .await
        .unwrap();
}

async fn records_read_back_as_written(db: TestStore) {
    let store = &db.store;
    let org = organisation("nor-hydro");
    store.insert_organisation(&org, "tester").await.unwrap();
    assert_eq!(
        store.organisation(&RecordKey::Id(org.id)).await.unwrap(),
        org
    );
    assert_eq!(
        store
            .organisation(&RecordKey::Slug("nor-hydro".into()))
            .await
            .unwrap(),
        org
    );

    let written = dataset("nor-hydro", "Glider CTD section");
    store.insert_dataset(&written, "tester").await.unwrap();
    let by_id = store.dataset(&RecordKey::Id(written.id)).await.unwrap();
    assert_eq!(by_id, written);
    let by_slug = store
        .dataset(&RecordKey::Slug(written.metadata.slug.to_string()))
        .await
        .unwrap();
    assert_eq!(by_slug, written);
    assert!(
        store
            .dataset_slug_taken(written.metadata.slug.as_str())
            .await
            .unwrap()
    );
    assert!(!store.dataset_slug_taken("nothing-here").await.unwrap());
    let taken = store
        .dataset_slugs_taken(&[written.metadata.slug.as_str(), "nothing-here"])
        .await
        .unwrap();
    assert_eq!(taken, HashSet::from([written.metadata.slug.to_string()]));
    let stored = store
        .dataset_json(&RecordKey::Id(written.id))
        .await
        .unwrap();
    assert_eq!((stored.id, stored.revision), (written.id, 1));
    let served: serde_json::Value = serde_json::from_str(stored.json.get()).unwrap();
    assert_eq!(
        served,
        serde_json::to_value(&written).unwrap(),
        "stored JSON is the record"
    );
    assert!(matches!(
        store.dataset(&RecordKey::Id(Uuid::now_v7())).await,
        Err(StoreError::NotFound)
    ));
}

async fn writes_are_revisioned_and_fed_in_order(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    let mut record = dataset("cmre", "ADCP currents");
    store.insert_dataset(&record, "alice").await.unwrap();
    record.metadata.title = "ADCP currents, corrected".into();
    record.revision = 2;
    record.updated_at = now();
    store
        .update_dataset(DatasetUpdate::new(&record, 1), "bob")
        .await
        .unwrap();

    let revisions = store
        .revisions(EntityType::Dataset, record.id, 0, 10)
        .await
        .unwrap();
    let summary: Vec<_> = revisions
        .iter()
        .map(|r| (r.revision, r.operation, r.actor.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Operation::Created, "alice"),
            (2, Operation::Updated, "bob")
        ]
    );
    assert!(
        revisions.iter().all(|r| r.snapshot.is_none()),
        "lists carry no snapshots"
    );
    let first = store
        .revision(EntityType::Dataset, record.id, 1)
        .await
        .unwrap();
    assert_eq!(first.snapshot.unwrap()["title"], "ADCP currents");
    let second = store
        .revision(EntityType::Dataset, record.id, 2)
        .await
        .unwrap();
    assert_eq!(
        second.snapshot.unwrap()["title"],
        "ADCP currents, corrected"
    );

    let changes = store.changes_since(0, 100).await.unwrap();
    let fed: Vec<_> = changes
        .iter()
        .map(|c| (c.entity_type, c.revision, c.operation))
        .collect();
    assert_eq!(
        fed,
        [
            (EntityType::Organisation, 1, Operation::Created),
            (EntityType::Dataset, 1, Operation::Created),
            (EntityType::Dataset, 2, Operation::Updated),
        ]
    );
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(store.latest_change().await.unwrap(), changes[2].seq);
    let found = store
        .datasets_by_ids(&[record.id, Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|d| d.revision).collect::<Vec<_>>(),
        [2],
        "only those that exist"
    );
    let tail = store.changes_since(changes[1].seq, 100).await.unwrap();
    assert_eq!(tail, changes[2..]);
}

async fn stale_and_missing_writes_are_refused(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    let mut record = dataset("cmre", "Sidescan mosaic");
    store.insert_dataset(&record, "tester").await.unwrap();
    record.revision = 2;
    record.metadata.title = "Changed".into();
    assert!(matches!(
        store
            .update_dataset(DatasetUpdate::new(&record, 7), "t")
            .await,
        Err(StoreError::StaleRevision)
    ));
    assert!(matches!(
        store.delete_dataset(record.id, 7, "t").await,
        Err(StoreError::StaleRevision)
    ));
    let unchanged = store.dataset(&RecordKey::Id(record.id)).await.unwrap();
    assert_eq!(
        (unchanged.revision, unchanged.metadata.title.as_str()),
        (1, "Sidescan mosaic")
    );
    let ghost = dataset("cmre", "Ghost");
    assert!(matches!(
        store
            .update_dataset(DatasetUpdate::new(&ghost, 1), "t")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_dataset(ghost.id, 1, "t").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.changes_since(0, 100).await.unwrap().len(),
        2,
        "refused writes leave no change"
    );
}

async fn unique_slugs_and_references_are_enforced(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    store
        .insert_dataset(&dataset("cmre", "Same title"), "t")
        .await
        .unwrap();
    match store
        .insert_dataset(&dataset("cmre", "Same title"), "t")
        .await
    {
        Err(StoreError::Duplicate { field }) => assert_eq!(field, "slug"),
        other => panic!("expected a duplicate slug, got {other:?}"),
    }
    match store.insert_organisation(&organisation("cmre"), "t").await {
        Err(StoreError::Duplicate { field }) => assert_eq!(field, "slug"),
        other => panic!("expected a duplicate slug, got {other:?}"),
    }
    let orphan = dataset("no-such-org", "Orphan");
    assert!(matches!(
        store.insert_dataset(&orphan, "t").await,
        Err(StoreError::Reference)
    ));
    let org = store
        .organisation(&RecordKey::Slug("cmre".into()))
        .await
        .unwrap();
    assert!(matches!(
        store.delete_organisation(org.id, 1, "t").await,
        Err(StoreError::Reference)
    ));
    assert!(matches!(
        store.dataset(&RecordKey::Id(orphan.id)).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_failed_batch_writes_nothing(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    let batch = vec![
        dataset("cmre", "One"),
        dataset("cmre", "Two"),
        dataset("cmre", "One"),
    ];
    assert!(store.insert_datasets(&batch, "importer").await.is_err());
    assert!(
        store
            .datasets(&DatasetFilter::default(), ALL)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .revisions(EntityType::Dataset, batch[0].id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.changes_since(0, 100).await.unwrap().len(),
        1,
        "only the organisation"
    );
    store
        .insert_datasets(&batch[..2], "importer")
        .await
        .unwrap();
    assert_eq!(
        store
            .datasets(&DatasetFilter::default(), ALL)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn a_dataset_tells_which_ways_its_links_go(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    let source = dataset("cmre", "Raw CTD casts");
    let alone = dataset("cmre", "Wave buoy");
    let mut product = dataset("cmre", "Gridded salinity");
    product.metadata.was_derived_from = vec![source.id];
    for record in [&source, &alone, &product] {
        store.insert_dataset(record, "t").await.unwrap();
    }
    let ways = async |link, id| store.link_ways(link, id).await.unwrap();
    assert_eq!(
        ways(DatasetLink::DerivedFrom, product.id).await,
        [Walk::Upstream]
    );
    assert_eq!(
        ways(DatasetLink::DerivedFrom, source.id).await,
        [Walk::Downstream]
    );
    assert_eq!(ways(DatasetLink::DerivedFrom, alone.id).await, []);
    assert_eq!(ways(DatasetLink::PreviousVersion, product.id).await, []);
    // A version between two others has links both ways.
    let mut second = dataset("cmre", "Gridded salinity, second edition");
    second.metadata.previous_version = Some(product.id);
    store.insert_dataset(&second, "t").await.unwrap();
    let mut third = dataset("cmre", "Gridded salinity, third edition");
    third.metadata.previous_version = Some(second.id);
    store.insert_dataset(&third, "t").await.unwrap();
    assert_eq!(
        ways(DatasetLink::PreviousVersion, second.id).await,
        [Walk::Upstream, Walk::Downstream]
    );
}

/// `organisations_by_slug` reads them a page of 1,000 at a time: one more than a page are all read.
async fn every_organisation_is_read_by_slug_past_a_page(db: TestStore) {
    let store = &db.store;
    for n in 0..1001 {
        with_org(store, &format!("org-{n}")).await;
    }
    let by_slug = store.organisations_by_slug().await.unwrap();
    assert_eq!(by_slug.len(), 1001);
    assert_eq!(by_slug["org-1000"].details.name, "Organisation org-1000");
}

async fn deleting_keeps_history(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    let record = dataset("cmre", "Wave buoy");
    store.insert_dataset(&record, "t").await.unwrap();
    store.delete_dataset(record.id, 1, "remover").await.unwrap();
    assert!(matches!(
        store.dataset(&RecordKey::Id(record.id)).await,
        Err(StoreError::NotFound)
    ));
    let revisions = store
        .revisions(EntityType::Dataset, record.id, 0, 10)
        .await
        .unwrap();
    assert_eq!(
        revisions.last().map(|r| (r.revision, r.operation)),
        Some((2, Operation::Deleted))
    );
    assert!(
        store
            .revision(EntityType::Dataset, record.id, 2)
            .await
            .unwrap()
            .snapshot
            .is_none()
    );
    let keyword = DatasetFilter {
        keyword: Some("ctd".into()),
        ..Default::default()
    };
    assert!(
        store.datasets(&keyword, ALL).await.unwrap().is_empty(),
        "keywords go with the record"
    );
    let org = store
        .organisation(&RecordKey::Slug("cmre".into()))
        .await
        .unwrap();
    store.delete_organisation(org.id, 1, "t").await.unwrap();
    let last = store.changes_since(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.entity_type, last.operation, last.revision),
        (EntityType::Organisation, Operation::Deleted, 2)
    );
}

async fn lists_filter_and_page_by_keyset(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    with_org(store, "nhs").await;
    let mut written = Vec::new();
    for i in 0..25 {
        let mut record = dataset(
            if i % 3 == 0 { "nhs" } else { "cmre" },
            &format!("Record {i}"),
        );
        if i % 5 == 0 {
            record.metadata.keywords = vec!["Multibeam".into()];
        }
        written.push(record);
    }
    store.insert_datasets(&written, "t").await.unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .datasets(&DatasetFilter::default(), PageRequest { after, limit: 7 })
            .await
            .unwrap();
        seen.extend(page.iter().map(|d| d.id));
        if page.len() < 7 {
            break;
        }
        after = page.last().map(|d| Position::Id(d.id));
    }
    let mut expected: Vec<_> = written.iter().map(|d| d.id).collect();
    expected.sort();
    assert_eq!(seen, expected, "pages cover every record once, in id order");

    let nhs = DatasetFilter {
        organisation: Some("nhs".into()),
        ..Default::default()
    };
    let found = store.datasets(&nhs, ALL).await.unwrap();
    assert_eq!(found.len(), 9);
    assert!(
        found
            .iter()
            .all(|d| d.metadata.organisation.as_str() == "nhs")
    );

    let keyword = DatasetFilter {
        keyword: Some("MULTIBEAM".into()),
        organisation: Some("nhs".into()),
        ..Default::default()
    };
    let found = store.datasets(&keyword, ALL).await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|d| d.metadata.title.as_str())
            .collect::<Vec<_>>(),
        ["Record 0", "Record 15"]
    );

    // Changes are listed in order of change, whatever the order of creation.
    let base = now();
    let mut changed_order = Vec::new();
    for (n, i) in [20, 3, 11, 7, 15].into_iter().enumerate() {
        let mut changed = written[i].clone();
        changed.revision = 2;
        changed.updated_at = base + Duration::seconds(30 + n as i64);
        store
            .update_dataset(DatasetUpdate::new(&changed, 1), "t")
            .await
            .unwrap();
        changed_order.push(changed.id);
    }
    let recent = DatasetFilter {
        modified_since: Some(base + Duration::seconds(10)),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .datasets_json(&recent, PageRequest { after, limit: 2 })
            .await
            .unwrap();
        seen.extend(page.iter().map(|d| d.id));
        match page.last() {
            Some(last) if page.len() == 2 => {
                after = Some(Position::Modified(last.updated_at, last.id))
            }
            _ => break,
        }
    }
    assert_eq!(seen, changed_order, "pages of changes follow updated_at");
    let creation_order = PageRequest::after_id(Uuid::nil(), 10);
    assert!(
        store.datasets_json(&recent, creation_order).await.is_err(),
        "positions belong to one order"
    );
}

async fn tokens_expire_and_revoke(db: TestStore) {
    let store = &db.store;
    let user = User {
        id: Uuid::now_v7(),
        name: "ops".into(),
        role: Role::Editor,
        clearance: Some("NATO SECRET".into()),
        nationality: Some("NOR".into()),
        communities: vec!["NATO".into(), "REP-MUS".into()],
        memberships: vec![fathom_model::Membership {
            organisation: fathom_model::Slug::parse("cmre").unwrap(),
            role: fathom_model::OrganisationRole::Steward,
        }],
        created_at: now(),
    };
    store
        .insert_user(&user, &audit_entry("user_created", "ops"))
        .await
        .unwrap();
    assert!(!store.admin_exists().await.unwrap());
    assert_eq!(store.users().await.unwrap(), std::slice::from_ref(&user));
    let token = |hash: &[u8], expires_at| ApiToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        secret_hash: hash.to_vec(),
        description: String::new(),
        scopes: vec!["read".into(), "write".into()],
        created_at: now(),
        expires_at,
    };
    let lasting = token(b"lasting", None);
    let created = audit_entry("token_created", "ops");
    store.insert_token(&lasting, &created).await.unwrap();
    store
        .insert_token(
            &token(b"expired", Some(now() - Duration::minutes(1))),
            &created,
        )
        .await
        .unwrap();
    store
        .insert_token(&token(b"soon", Some(now() + Duration::hours(1))), &created)
        .await
        .unwrap();
    assert_eq!(
        store.user_by_token(b"lasting", now()).await.unwrap(),
        (user.clone(), vec!["read".to_owned(), "write".to_owned()])
    );
    assert_eq!(
        store.user_by_token(b"soon", now()).await.unwrap().0.name,
        "ops"
    );
    let used_at = now();
    store.touch_token(b"soon", used_at).await.unwrap();
    let listed = store.tokens(Some("ops")).await.unwrap();
    assert_eq!(listed.len(), 3);
    let soon = listed
        .iter()
        .find(|t| t.expires_at.is_some_and(|e| e > now()))
        .unwrap();
    assert_eq!(
        soon.last_used_at.map(|at| at.unix_timestamp()),
        Some(used_at.unix_timestamp())
    );
    assert!(store.tokens(Some("nobody")).await.unwrap().is_empty());
    assert!(matches!(
        store
            .user_by_token(b"soon", now() + Duration::hours(2))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.user_by_token(b"expired", now()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.user_by_token(b"unknown", now()).await,
        Err(StoreError::NotFound)
    ));
    let revoked = audit_entry("token_revoked", &lasting.id.to_string());
    store
        .revoke_token(lasting.id, now(), &revoked)
        .await
        .unwrap();
    assert!(matches!(
        store.user_by_token(b"lasting", now()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.revoke_token(lasting.id, now(), &revoked).await,
        Err(StoreError::NotFound)
    ));
    // Each write committed its one entry, in order; the refused revocation left none.
    let events = store.audit_events(0, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(),
        [
            "user_created",
            "token_created",
            "token_created",
            "token_created",
            "token_revoked"
        ]
    );
    assert!(events.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    // An entry appended on its own follows them.
    store
        .append_audit_event(&fathom_store::AuditEvent {
            details: serde_json::json!({"n": 1}),
            ..audit_entry("authentication_failed", "ops")
        })
        .await
        .unwrap();
    let last = events.last().unwrap().seq;
    let after = store.audit_events(last, 10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].event, "authentication_failed");
    assert_eq!(after[0].details, serde_json::json!({"n": 1}));
    // A disabled user's tokens no longer authenticate; disabling again writes nothing.
    let disabled = audit_entry("user_disabled", "ops");
    store.disable_user("ops", now(), &disabled).await.unwrap();
    assert!(matches!(
        store.user_by_token(b"soon", now()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.disable_user("ops", now(), &disabled).await,
        Err(StoreError::NotFound)
    ));
    let disabled_entries = store
        .audit_search(
            &fathom_store::AuditFilter {
                event: Some("user_disabled".into()),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(disabled_entries.len(), 1);
    assert_eq!(store.verify_audit_chain().await.unwrap().broken, None);
}

async fn idempotency_keys_are_claimed_once(db: TestStore) {
    let store = &db.store;
    let principal = Uuid::now_v7();
    let (at, later) = (now(), now() + Duration::seconds(100));
    // A claim made before `abandoned_before` and never finished is taken over by the same request.
    let claim = |hash: &'static [u8], at, abandoned_before| {
        store.claim_idempotency_key(principal, "key-1", hash, at, abandoned_before)
    };
    let in_time = at - Duration::seconds(90);
    assert_eq!(
        claim(b"hash", at, in_time).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(b"hash", at, in_time).await.unwrap(),
        IdempotencyClaim::InProgress
    );
    // Abandoned: another request with the key may not take it over; the same request does, once.
    assert_eq!(
        claim(b"other", later, at + Duration::seconds(1))
            .await
            .unwrap(),
        IdempotencyClaim::InProgress
    );
    assert_eq!(
        claim(b"hash", later, at + Duration::seconds(1))
            .await
            .unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        claim(b"hash", later, at + Duration::seconds(1))
            .await
            .unwrap(),
        IdempotencyClaim::InProgress
    );
    store
        .complete_idempotency_key(principal, "key-1", 201, "{\"id\":1}")
        .await
        .unwrap();
    let completed = IdempotencyClaim::Completed {
        request_hash: b"hash".to_vec(),
        status: 201,
        response: "{\"id\":1}".into(),
    };
    assert_eq!(claim(b"hash", later, in_time).await.unwrap(), completed);
    // A completed key is never taken over, however old.
    let much_later = later + Duration::hours(1);
    assert_eq!(
        claim(b"hash", much_later, much_later).await.unwrap(),
        completed
    );
    let other = Uuid::now_v7();
    let claim_other = || store.claim_idempotency_key(other, "key-1", b"h", at, in_time);
    assert_eq!(claim_other().await.unwrap(), IdempotencyClaim::Claimed);
    store.release_idempotency_key(other, "key-1").await.unwrap();
    assert_eq!(claim_other().await.unwrap(), IdempotencyClaim::Claimed);
    assert_eq!(
        store
            .prune_idempotency_keys(later + Duration::seconds(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        claim(b"hash", at, in_time).await.unwrap(),
        IdempotencyClaim::Claimed
    );
}

/// A write made while holding a claim notes it in the write's transaction: once the claim is
/// abandoned (its request's process died before completing it), the retry learns what was written
/// instead of writing again; a claim whose request wrote nothing is taken over.
async fn a_claim_notes_what_its_request_wrote(db: TestStore) {
    let store = &db.store;
    let principal = Uuid::now_v7();
    let at = now();
    let (in_time, abandoned) = (at - Duration::seconds(90), at + Duration::seconds(1));
    let claim = |key: &'static str, abandoned_before| {
        store.claim_idempotency_key(principal, key, b"hash", at, abandoned_before)
    };
    assert_eq!(
        claim("wrote", in_time).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    let org = organisation("claimed");
    fathom_store::holding_claim(principal, "wrote", async {
        store.insert_organisation(&org, "tester").await.unwrap();
        // A second write of the same request does not change what the claim names.
        store
            .insert_organisation(&organisation("second"), "tester")
            .await
            .unwrap();
    })
    .await;
    assert_eq!(
        claim("wrote", in_time).await.unwrap(),
        IdempotencyClaim::InProgress
    );
    // Released after a failure, a claim whose request wrote stays: its write is not to be made again.
    store
        .release_idempotency_key(principal, "wrote")
        .await
        .unwrap();
    assert_eq!(
        claim("wrote", abandoned).await.unwrap(),
        IdempotencyClaim::Written {
            entity_type: EntityType::Organisation,
            id: org.id
        }
    );
    // A write outside the claim's request notes nothing in it.
    assert_eq!(
        claim("idle", in_time).await.unwrap(),
        IdempotencyClaim::Claimed
    );
    store
        .insert_organisation(&organisation("outside"), "tester")
        .await
        .unwrap();
    assert_eq!(
        claim("idle", abandoned).await.unwrap(),
        IdempotencyClaim::Claimed
    );
}

/// Writers commit concurrently while a reader tails the change feed by `seq`. Were a later `seq` ever
/// visible before an earlier one committed, the reader would move past the earlier one and never
/// see it. Every change must reach the reader.
async fn concurrent_writers_are_fed_in_commit_order(db: TestStore) {
    let store = &db.store;
    const WRITERS: usize = 8;
    const EACH: usize = 40;
    with_org(store, "cmre").await;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    store
                        .insert_dataset(&dataset("cmre", &format!("Writer {w} record {i}")), "w")
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let (mut seen, mut told) = (HashSet::new(), HashSet::new());
            let (mut after, mut after_event) = (0, 0);
            while seen.len() < WRITERS * EACH || told.len() < WRITERS * EACH {
                for change in store.changes_since(after, 50).await.unwrap() {
                    after = change.seq;
                    if change.entity_type == EntityType::Dataset {
                        seen.insert(change.entity_id);
                    }
                }
                for event in store.events_after(after_event, 50).await.unwrap() {
                    after_event = event.seq;
                    if event.event_type == "org.fathom.dataset.created" {
                        told.insert(event.subject);
                    }
                }
                tokio::task::yield_now().await;
            }
            assert_eq!(seen, told, "every change has its event");
            seen.len()
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    let seen = tokio::time::timeout(std::time::Duration::from_secs(20), reader)
        .await
        .expect("the tailing reader missed changes or events: seq order is not commit order")
        .unwrap();
    assert_eq!(seen, WRITERS * EACH);
}

async fn every_change_writes_its_event(db: TestStore) {
    let store = &db.store;
    let org = organisation("cmre");
    store.insert_organisation(&org, "t").await.unwrap();
    let mut record = dataset("cmre", "CTD casts");
    record.state = fathom_model::DatasetState::Draft;
    store.insert_dataset(&record, "t").await.unwrap();
    let mut retitled = record.clone();
    retitled.metadata.title = "CTD casts, Ligurian Sea".into();
    retitled.revision = 2;
    store
        .update_dataset(DatasetUpdate::new(&retitled, 1), "t")
        .await
        .unwrap();
    let mut published = retitled.clone();
    published.state = fathom_model::DatasetState::Published;
    published.revision = 3;
    store
        .update_dataset(DatasetUpdate::new(&published, 2), "t")
        .await
        .unwrap();
    store.delete_dataset(record.id, 3, "t").await.unwrap();

    let events = store.events_after(0, 100).await.unwrap();
    let told: Vec<(&str, i64)> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.sequence))
        .collect();
    assert_eq!(
        told,
        [
            ("org.fathom.organisation.created", 1),
            ("org.fathom.dataset.created", 1),
            ("org.fathom.dataset.updated", 2),
            ("org.fathom.dataset.published", 3),
            ("org.fathom.dataset.deleted", 4),
        ]
    );
    assert!(events.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert_eq!(
        events.iter().map(|e| e.id).collect::<HashSet<_>>().len(),
        events.len()
    );
    assert_eq!(events[0].subject, org.id);
    assert!(events[1..].iter().all(|e| e.subject == record.id));
    let data = |n: usize| serde_json::from_str::<serde_json::Value>(events[n].data.get()).unwrap();
    assert_eq!(data(1)["title"], "CTD casts");
    assert_eq!(data(2)["changed"], serde_json::json!(["title"]));
    assert_eq!(data(3)["changed"], serde_json::json!(["state"]));
    assert_eq!(
        data(4)["title"],
        "CTD casts, Ligurian Sea",
        "a deletion tells what was deleted"
    );
    assert_eq!(store.latest_change().await.unwrap(), events[4].seq);
}

async fn a_refused_change_writes_no_event(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    let record = dataset("cmre", "CTD");
    store.insert_dataset(&record, "t").await.unwrap();
    let before = store.latest_change().await.unwrap();
    let mut stale = record.clone();
    stale.revision = 2;
    let label_changed = audit_entry("label_changed", "ctd");
    let stale_update = DatasetUpdate {
        audit: Some(&label_changed),
        ..DatasetUpdate::new(&stale, 5)
    };
    assert!(matches!(
        store.update_dataset(stale_update, "t").await,
        Err(StoreError::StaleRevision)
    ));
    assert_eq!(
        store.audit_events(0, 10).await.unwrap(),
        [],
        "a stale update writes no audit entry"
    );
    assert!(matches!(
        store.delete_dataset(record.id, 5, "t").await,
        Err(StoreError::StaleRevision)
    ));
    let orphan = dataset("nobody", "Orphan");
    assert!(
        store
            .insert_datasets(&[dataset("cmre", "Fine"), orphan], "t")
            .await
            .is_err()
    );
    assert_eq!(store.latest_change().await.unwrap(), before);
}

async fn an_event_target_is_held_by_one_relay(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    let at = now();
    let until = at + Duration::seconds(30);
    assert_eq!(
        store
            .lease_event_target("amqp", "a", 0, at, until)
            .await
            .unwrap(),
        Some(0)
    );
    assert_eq!(
        store
            .lease_event_target("amqp", "b", 0, at, until)
            .await
            .unwrap(),
        None,
        "held by a"
    );
    assert!(store.move_event_target("amqp", "a", 1, at).await.unwrap());
    assert!(
        !store.move_event_target("amqp", "b", 1, at).await.unwrap(),
        "b does not hold it"
    );
    assert_eq!(
        store
            .lease_event_target("amqp", "a", 0, at, until)
            .await
            .unwrap(),
        Some(1),
        "renewed"
    );
    let later = until + Duration::seconds(1);
    assert_eq!(
        store
            .lease_event_target("amqp", "b", 0, later, later + Duration::seconds(30))
            .await
            .unwrap(),
        Some(1),
        "an expired lease passes on, with the position"
    );
    assert!(
        !store
            .move_event_target("amqp", "a", 1, later)
            .await
            .unwrap(),
        "a lost it"
    );
    store.release_event_target("amqp", "b").await.unwrap();
    assert_eq!(
        store
            .lease_event_target("amqp", "a", 0, later, later)
            .await
            .unwrap(),
        Some(1),
        "released"
    );
    let targets = store.event_targets().await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].position, 1);
    assert_eq!(
        targets[0].pending, 0,
        "the organisation's event was the only one"
    );
}

async fn delivered_events_are_pruned(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    store
        .insert_datasets(&[dataset("cmre", "A"), dataset("cmre", "B")], "t")
        .await
        .unwrap();
    // The retention period ends after the events were written, and the target was heard from since.
    let at = now() + Duration::seconds(1);
    store
        .lease_event_target("amqp", "a", 0, at, at + Duration::seconds(30))
        .await
        .unwrap();
    store.move_event_target("amqp", "a", 2, at).await.unwrap();
    assert_eq!(
        store.prune_events(at).await.unwrap(),
        2,
        "only what the target was sent"
    );
    let left = store.events_after(0, 10).await.unwrap();
    assert_eq!(left.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
    assert_eq!(
        store.changes_since(0, 10).await.unwrap().len(),
        3,
        "the changes stay in the feed"
    );
    assert_eq!(
        store.prune_events(at - Duration::hours(1)).await.unwrap(),
        0,
        "not yet old"
    );
    let much_later = at + Duration::days(30);
    assert_eq!(
        store.prune_events(much_later).await.unwrap(),
        1,
        "a target not heard from for the whole retention period holds nothing back"
    );
}

/// Harvests list live and deleted datasets by the time of their last change, page by page without
/// gaps or repeats, within `[from, until)` and an organisation; the extent counts the same.
async fn harvests_list_changes_and_deletions_in_order(db: TestStore) {
    let store = &db.store;
    with_org(store, "cmre").await;
    with_org(store, "nhs").await;
    let mut records = Vec::new();
    for n in 0..6 {
        let record = dataset(
            if n % 2 == 0 { "cmre" } else { "nhs" },
            &format!("Survey {n}"),
        );
        store.insert_dataset(&record, "t").await.unwrap();
        records.push(record);
    }
    let start = now();
    // Changed after `start`: 0 (updated), 3 (deleted).
    let mut updated = records[0].clone();
    updated.metadata.title = "Survey 0, calibrated".into();
    updated.revision = 2;
    updated.updated_at = now();
    store
        .update_dataset(DatasetUpdate::new(&updated, 1), "t")
        .await
        .unwrap();
    store.delete_dataset(records[3].id, 1, "t").await.unwrap();

    let everything = HarvestFilter::default();
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = store.harvest(&everything, after, 4).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.position());
        listed.extend(page);
    }
    let order: Vec<(uuid::Uuid, bool)> = listed
        .iter()
        .map(|h| match h {
            Harvested::Live(record) => (record.id, true),
            Harvested::Deleted(tombstone) => (tombstone.id, false),
        })
        .collect();
    let expected: Vec<(uuid::Uuid, bool)> = [1, 2, 4, 5, 0, 3]
        .iter()
        .map(|&n| (records[n].id, n != 3))
        .collect();
    assert_eq!(order, expected, "by time of last change, the deletion last");
    let Some(Harvested::Deleted(tombstone)) = listed.last() else {
        panic!("the deletion is listed")
    };
    assert_eq!(
        (tombstone.organisation.as_str(), &tombstone.label),
        ("nhs", &records[3].metadata.security_label)
    );

    let since_start = HarvestFilter {
        from: Some(start),
        ..Default::default()
    };
    let changed = store.harvest(&since_start, None, 100).await.unwrap();
    assert_eq!(changed.len(), 2);
    let until_start = HarvestFilter {
        until: Some(start),
        organisation: Some("nhs".into()),
        ..Default::default()
    };
    let before: Vec<_> = store.harvest(&until_start, None, 100).await.unwrap();
    let ids: Vec<_> = before.iter().map(|h| h.position().1).collect();
    assert_eq!(
        ids,
        vec![records[1].id, records[5].id],
        "nhs, before the changes"
    );
    let (live, tombstones) = store.harvest_extent(&since_start).await.unwrap();
    assert_eq!((live, tombstones.len()), (1, 1));
    let (live, tombstones) = store.harvest_extent(&everything).await.unwrap();
    assert_eq!((live, tombstones.len()), (5, 1));
    assert_eq!(
        store.tombstone(records[3].id).await.unwrap().as_ref(),
        Some(tombstone)
    );
    assert_eq!(store.tombstone(records[2].id).await.unwrap(), None);
}

async fn a_server_secret_is_made_once(db: TestStore) {
    let store = &db.store;
    let first = store.server_secret("oai", &[1; 32]).await.unwrap();
    let second = store.server_secret("oai", &[2; 32]).await.unwrap();
    assert_eq!((first.clone(), second), (vec![1; 32], vec![1; 32]));
    assert_eq!(
        store.server_secret("other", &[3; 8]).await.unwrap(),
        vec![3; 8]
    );
}

async fn the_audit_log_is_a_hash_chain_that_shows_tampering(db: TestStore) {
    let store = &db.store;
    let empty = store.verify_audit_chain().await.unwrap();
    assert_eq!((empty.entries, empty.broken), (0, None));
    for n in 0..5 {
        store
            .append_audit_event(&fathom_store::AuditEvent {
                seq: 0,
                recorded_at: now(),
                event: "label_changed".into(),
                actor: Some("steward".into()),
                subject: Some(format!("dataset-{n}")),
                details: serde_json::json!({"from": "PUBLIC", "to": "RESTRICTED", "n": n}),
            })
            .await
            .unwrap();
    }
    let whole = store.verify_audit_chain().await.unwrap();
    assert_eq!(whole.entries, 5);
    assert!(whole.broken.is_none());
    let seqs: Vec<i64> = store
        .audit_events(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();

    // An edited entry breaks its own link; a hash recomputed for it breaks the next one.
    db.execute(&format!(
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = {}",
        seqs[2]
    ))
    .await;
    let report = store.verify_audit_chain().await.unwrap();
    let broken = report.broken.unwrap();
    assert_eq!((broken.seq, report.entries), (seqs[2], 2));
    assert!(broken.reason.contains("was changed"), "{broken:?}");
    db.execute(&format!(
        "UPDATE audit_events SET actor = 'steward' WHERE seq = {}",
        seqs[2]
    ))
    .await;
    assert!(
        store.verify_audit_chain().await.unwrap().broken.is_none(),
        "restored"
    );

    // A removed entry breaks the link of the one after it.
    assert_eq!(
        db.execute(&format!("DELETE FROM audit_events WHERE seq = {}", seqs[1]))
            .await,
        1
    );
    let broken = store.verify_audit_chain().await.unwrap().broken.unwrap();
    assert_eq!(broken.seq, seqs[2]);
    assert!(broken.reason.contains("entry before it"), "{broken:?}");
}
