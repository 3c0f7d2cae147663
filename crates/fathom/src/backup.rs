//! `fathom restore`: a backup made by `fathom backup` put in place of the embedded database, with
//! the security policy it carries.

use std::path::Path;

use anyhow::{Context, bail};
use fathom_service::Store;

use crate::config::Config;

/// The name the security policy in force is attached to a backup under.
pub const POLICY: &str = "policy";

/// Checks the backup by opening (and migrating) a copy of it inside the data directory, then moves
/// that copy over the database in one rename, and removes the search index, which the next start
/// rebuilds from the restored records. The policy the backup carries is written to
/// `policy-from-backup.json` in the data directory; its path is returned.
pub async fn restore(
    config: &Config,
    backup: &Path,
    force: bool,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    if config.database_url.is_some() {
        bail!("a PostgreSQL catalogue is restored with pg_restore (see docs/operations.md)");
    }
    let database = config.data_dir.join("fathom.db");
    if database.exists() && !force {
        bail!(
            "{} exists: stop the server, then restore with --force to replace it",
            database.display()
        );
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let staging = tempfile_dir(&config.data_dir)?;
    std::fs::copy(backup, staging.join("fathom.db"))
        .with_context(|| format!("cannot read the backup {}", backup.display()))?;
    let store = Store::open_sqlite(&staging)
        .await
        .with_context(|| format!("{} is not a Fathom database", backup.display()))?;
    let checked = async {
        store.migrate().await?;
        store.latest_change().await?;
        store.take_backup_attachments().await
    }
    .await;
    store.close().await;
    drop(store);
    let attachments =
        checked.with_context(|| format!("{} is not a Fathom database", backup.display()))?;
    // The old database's write-ahead log must not be applied to the restored one; the restored
    // one's own (if a connection left it) comes along.
    for stale in ["fathom.db-wal", "fathom.db-shm"] {
        let _ = std::fs::remove_file(config.data_dir.join(stale));
    }
    let staged_log = staging.join("fathom.db-wal");
    if staged_log.exists() {
        std::fs::rename(&staged_log, config.data_dir.join("fathom.db-wal"))
            .with_context(|| format!("cannot move {}", staged_log.display()))?;
    }
    std::fs::rename(staging.join("fathom.db"), &database)
        .with_context(|| format!("cannot replace {}", database.display()))?;
    let _ = std::fs::remove_dir_all(&staging);
    let index = config.data_dir.join("search");
    if index.exists() {
        std::fs::remove_dir_all(&index)
            .with_context(|| format!("cannot remove the old search index {}", index.display()))?;
    }
    let Some((_, policy)) = attachments.iter().find(|(name, _)| name == POLICY) else {
        return Ok(None);
    };
    let written = config.data_dir.join("policy-from-backup.json");
    std::fs::write(&written, policy)
        .with_context(|| format!("cannot write {}", written.display()))?;
    Ok(Some(written))
}

/// A fresh directory inside `parent` (so that the final rename stays on one file system).
fn tempfile_dir(parent: &Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = parent.join(format!(".restore-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
