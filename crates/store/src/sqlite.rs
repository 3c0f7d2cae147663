//! The embedded default: one SQLite file in WAL mode, many readers and a single writer connection.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Binds an instant as fixed-width UTC text, so that comparing text compares time.
fn db_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    utc.format(&format).unwrap_or_default()
}

/// SQLite has one writer at a time, so appends are already in commit order.
async fn lock_change_feed(_tx: &mut Tx) -> StoreResult<()> {
    Ok(())
}

impl Repository {
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL loses nothing when the process dies; only a power loss can lose
            // the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 8 MiB of page cache per connection keeps the server's memory bounded; the operating
            // system's file cache holds the rest of a large database.
            .pragma("cache_size", "-8000");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .clamp(2, 16);
        let read = SqlitePoolOptions::new()
            .max_connections(u32::try_from(readers).unwrap_or(4))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { read, write })
    }
}

include!("repository.rs");
