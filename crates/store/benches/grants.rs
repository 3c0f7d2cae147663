//! The grants lookup every authenticated request makes: 50,000 grants held by 4,999 users and 200
//! organisations (some expired, some revoked), and the datasets granted now to one user who is a
//! member of two organisations, as `Sharing::with_grants` asks. `cargo bench -p fathom-store --bench
//! grants`; PostgreSQL too when `FATHOM_TEST_POSTGRES_URL` is set. Prints p50 and p99.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fathom_model::{EventDraft, Grant, GrantSource, Grantee, Period, Revocation, Slug};
use fathom_store::testing::TestStore;
use fathom_store::{AuditEvent, Notice, now};
use uuid::Uuid;

const GRANTS: usize = 50_000;
/// Prime to the other moduli, so that every user holds grants.
const USERS: usize = 4_999;
const ORGANISATIONS: usize = 200;
const LOOKUPS: usize = 2_000;

fn notice(grant: &Grant) -> Notice {
    Notice {
        event: EventDraft {
            event_type: "org.fathom.grant.created".into(),
            sequence: 1,
            data: "{}".into(),
        },
        audit: AuditEvent {
            seq: 0,
            recorded_at: grant.created_at,
            event: "grant_created".into(),
            actor: Some("bench".into()),
            subject: Some(grant.id.to_string()),
            details: serde_json::json!({}),
        },
    }
}

async fn measure(name: &str, db: TestStore) {
    let store = &db.store;
    let at = now();
    let started = Instant::now();
    for n in 0..GRANTS {
        // One grant in ten is an organisation's; one in five has ended, one in twenty is revoked.
        let grantee = if n % 10 == 3 {
            Grantee::Organisation(
                Slug::parse(&format!("org-{}", (n / 10) % ORGANISATIONS)).unwrap(),
            )
        } else {
            Grantee::User(format!("user-{}", n % USERS))
        };
        let end = if n % 5 == 0 {
            at - time::Duration::days(1)
        } else {
            at + time::Duration::days(30)
        };
        let grant = Grant {
            id: Uuid::now_v7(),
            dataset: Uuid::now_v7(),
            distribution: None,
            grantee,
            period: Period {
                start: at - time::Duration::days(60),
                end,
            },
            purpose: "bench".into(),
            conditions: Vec::new(),
            source: GrantSource::AccessRequest(Uuid::nil()),
            granted_by: vec!["bench".into()],
            revoked: (n % 20 == 1).then(|| Revocation {
                by: "bench".into(),
                at: at - time::Duration::days(2),
                reason: "bench".into(),
            }),
            created_at: at,
        };
        store.insert_grant(&grant, &notice(&grant)).await.unwrap();
    }
    println!(
        "{name}: {GRANTS} grants written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut latencies = Vec::with_capacity(LOOKUPS);
    let mut found = 0;
    for n in 0..LOOKUPS {
        let user = format!("user-{}", (n * 7) % USERS);
        let organisations = [
            format!("org-{}", n % ORGANISATIONS),
            format!("org-{}", (n + 1) % ORGANISATIONS),
        ];
        let organisations: Vec<&str> = organisations.iter().map(String::as_str).collect();
        let started = Instant::now();
        let granted = store
            .granted_datasets(&user, &organisations, now())
            .await
            .unwrap();
        latencies.push(started.elapsed());
        assert!(granted.len() < 1000);
        found += granted.len();
    }
    assert!(found > LOOKUPS, "the lookups find grants");
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name}: grants of a user and two organisations, {} lookups ({:.1} datasets each): p50 {:.3} ms, p99 {:.3} ms",
        latencies.len(),
        found as f64 / LOOKUPS as f64,
        ms(at(0.5)),
        ms(at(0.99))
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    measure("sqlite", TestStore::sqlite().await).await;
    if let Some(db) = TestStore::postgres().await {
        measure("postgres", db).await;
    }
}
