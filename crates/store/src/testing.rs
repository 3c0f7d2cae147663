//! Fresh, empty databases on both backends for test suites (feature `testing`).
//!
//! SQLite gets a temporary directory. PostgreSQL gets a new database `fathom_t_<uuid>` on the server
//! named by `FATHOM_TEST_POSTGRES_URL`, dropped when the test ends; without that variable the
//! PostgreSQL tests are skipped, except under `CI=true`, where that is a failure.

use fathom_model::{Dataset, DatasetInput, DatasetState, Organisation, OrganisationInput};
use sqlx::Connection;
use uuid::Uuid;

use crate::{AuditEvent, Store, now};

pub const POSTGRES_URL_VAR: &str = "FATHOM_TEST_POSTGRES_URL";

/// A migrated, empty store that removes its database when dropped.
#[derive(Debug)]
pub struct TestStore {
    pub store: Store,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(#[allow(dead_code)] tempfile::TempDir),
    Database {
        server_url: String,
        name: String,
        url: String,
    },
}

impl TestStore {
    /// The PostgreSQL URL of this store's database; `None` on SQLite.
    pub fn url(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::Database { url, .. } => Some(url),
            Cleanup::Directory(_) => None,
        }
    }

    /// Runs `sql` on the database behind the store over a connection of its own, as someone with
    /// SQL access could (tests of tamper detection); how many rows it changed.
    pub async fn execute(&self, sql: &str) -> u64 {
        use sqlx::Connection;
        let statement = || sqlx::AssertSqlSafe(sql.to_owned());
        let done = match &self.cleanup {
            Cleanup::Directory(dir) => {
                let url = format!("sqlite://{}", dir.path().join("fathom.db").display());
                let mut connection = sqlx::SqliteConnection::connect(&url)
                    .await
                    .unwrap_or_else(|e| fail(&format!("{e:?}")));
                sqlx::query(statement())
                    .execute(&mut connection)
                    .await
                    .map(|done| done.rows_affected())
            }
            Cleanup::Database { url, .. } => {
                let mut connection = sqlx::PgConnection::connect(url)
                    .await
                    .unwrap_or_else(|e| fail(&format!("{e:?}")));
                sqlx::query(statement())
                    .execute(&mut connection)
                    .await
                    .map(|done| done.rows_affected())
            }
        };
        done.unwrap_or_else(|e| fail(&format!("{sql}: {e:?}")))
    }

    pub async fn sqlite() -> Self {
        let dir =
            tempfile::tempdir().unwrap_or_else(|e| fail(&format!("no temporary directory: {e}")));
        let store = Store::open_sqlite(dir.path())
            .await
            .unwrap_or_else(|e| fail(&format!("{e:?}")));
        store
            .migrate()
            .await
            .unwrap_or_else(|e| fail(&format!("{e:?}")));
        Self {
            store,
            cleanup: Cleanup::Directory(dir),
        }
    }

    /// `None` when PostgreSQL is not configured and this is not CI.
    pub async fn postgres() -> Option<Self> {
        let Some(server_url) = postgres_url() else {
            eprintln!("skipped: {POSTGRES_URL_VAR} is not set");
            return None;
        };
        let name = format!("fathom_t_{}", Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|e| fail(&format!("PostgreSQL at {server_url} is unreachable: {e}")));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| fail(&format!("cannot create a test database: {e}")));
        let _ = admin.close().await;
        let url = database_url(&server_url, &name);
        let store = Store::connect_postgres(&url)
            .await
            .unwrap_or_else(|e| fail(&format!("{e:?}")));
        store
            .migrate()
            .await
            .unwrap_or_else(|e| fail(&format!("{e:?}")));
        Some(Self {
            store,
            cleanup: Cleanup::Database {
                server_url,
                name,
                url,
            },
        })
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let Cleanup::Database {
            server_url, name, ..
        } = &self.cleanup
        else {
            return;
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&server_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        });
        let _ = dropped.join();
    }
}

/// The PostgreSQL server for tests, if configured. Under `CI=true` it must be.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => fail(&format!(
            "CI=true but {POSTGRES_URL_VAR} is not set: the PostgreSQL suites must run"
        )),
        _ => None,
    }
}

/// `server_url` with its database replaced by `name`.
pub fn database_url(server_url: &str, name: &str) -> String {
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[allow(clippy::panic)]
fn fail(message: &str) -> ! {
    panic!("{message}")
}

/// An audit entry of `event` about `subject`, by `ops`, for a write that takes one.
pub fn audit_entry(event: &str, subject: &str) -> AuditEvent {
    AuditEvent {
        seq: 0,
        recorded_at: now(),
        event: event.into(),
        actor: Some("ops".into()),
        subject: Some(subject.into()),
        details: serde_json::json!({}),
    }
}

/// A valid organisation with this slug.
pub fn organisation(slug: &str) -> Organisation {
    let details = OrganisationInput {
        slug: Some(slug.into()),
        name: Some(format!("Organisation {slug}")),
        nation: Some("NOR".into()),
        ..Default::default()
    }
    .parse()
    .unwrap_or_else(|e| fail(&e.to_string()));
    let at = now();
    Organisation {
        id: Uuid::now_v7(),
        details,
        revision: 1,
        created_at: at,
        updated_at: at,
    }
}

/// A valid dataset of `organisation` with this title, using every kind of field.
pub fn dataset(organisation: &str, title: &str) -> Dataset {
    let input: DatasetInput = serde_json::from_value(serde_json::json!({
        "title": title,
        "description": "CTD casts from a glider section.",
        "organisation": organisation,
        "keywords": ["CTD", "salinity"],
        "themes": ["http://publications.europa.eu/resource/authority/data-theme/ENVI"],
        "contact_points": [{"name": "Data Desk", "email": "data@example.org", "role": "pointOfContact"}],
        "creators": [{"name": "A. Researcher"}],
        "issued": "2024-05-01",
        "temporal": {"start": "2024-04-01T00:00:00Z", "end": "2024-04-20T12:00:00Z"},
        "spatial": {"bbox": [170.5, -20.0, -170.0, 10.0]},
        "language": ["en"],
        "license": "CC-BY-4.0",
        "access_rights": "public",
        "distributions": [{
            "title": "NetCDF",
            "access_url": "https://data.example.org/ctd.nc",
            "media_type": "application/x-netcdf",
            "byte_size": 1024,
            "checksum": {"algorithm": "sha256", "value": "a".repeat(64)}
        }]
    }))
    .unwrap_or_else(|e| fail(&e.to_string()));
    let draft = input
        .parse(&fathom_model::Policy::default_policy(), Uuid::now_v7)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let at = now();
    Dataset {
        id: Uuid::now_v7(),
        metadata: draft.metadata,
        state: DatasetState::Published,
        revision: 1,
        created_at: at,
        updated_at: at,
    }
}

/// Runs each named `async fn(TestStore)` once per backend, as the tests `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::testing::TestStore::sqlite().await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(db) = $crate::testing::TestStore::postgres().await else { return };
                super::$name(db).await;
            })*
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls_keep_server_and_options() {
        use super::database_url;
        assert_eq!(
            database_url("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            database_url("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            database_url("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
