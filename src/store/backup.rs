//! `perezvon backup`: an online copy of the SQLite database while the service runs. SQLite's
//! backup API copies the pages under a read transaction in small steps, so the service's writes go
//! on (a step that sees the source change starts over, which with WAL is rare); the copy is
//! written beside the target, checked (`pragma integrity_check`) and only then renamed into
//! place, so a failed backup never leaves a half-written file under the target's name. The copy
//! is a complete database in rollback-journal mode: to restore, stop the service, put the file at
//! the database path and remove any `-wal` / `-shm` files beside it (README "Backup and restore").
//! PostgreSQL is backed up with `pg_dump`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::backup::Backup;

use crate::config::DatabaseUrl;

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupDone {
    pub bytes: u64,
    pub pages: i32,
}

/// The SQLite file a `sqlite:` URL names; `None` for PostgreSQL.
pub fn sqlite_path(url: &DatabaseUrl) -> Option<PathBuf> {
    if url.is_postgres() {
        return None;
    }
    let path = url
        .expose()
        .trim_start_matches("sqlite:")
        .trim_start_matches("//");
    Some(PathBuf::from(path))
}

/// Copies the database at `src` to `to` (which must not exist yet).
pub fn backup_sqlite(src: &Path, to: &Path) -> anyhow::Result<BackupDone> {
    use anyhow::Context;
    if !src.exists() {
        anyhow::bail!("no database at {}", src.display());
    }
    if to.exists() {
        anyhow::bail!("{} exists already: choose a new file", to.display());
    }
    let dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = to.file_name().context("the target names no file")?;
    let partial = dir.join(format!(".{}.partial", name.to_string_lossy()));
    let _ = std::fs::remove_file(&partial);
    let result = copy(src, &partial);
    let done = match result {
        Ok(d) => d,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, to)
        .with_context(|| format!("cannot move the copy to {}", to.display()))?;
    Ok(done)
}

fn copy(src: &Path, partial: &Path) -> anyhow::Result<BackupDone> {
    use anyhow::Context;
    let from = Connection::open_with_flags(src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", src.display()))?;
    from.busy_timeout(Duration::from_secs(10))?;
    let mut dst = Connection::open(partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let pages = {
        let backup = Backup::new(&from, &mut dst)?;
        backup
            .run_to_completion(256, Duration::from_millis(5), None)
            .context("the backup did not complete")?;
        backup.progress().pagecount
    };
    // A standalone file: no WAL to carry along.
    dst.pragma_update(None, "journal_mode", "delete")?;
    let check: String = dst.query_row("pragma integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        anyhow::bail!("the copy failed its integrity check: {check}");
    }
    drop(dst);
    let bytes = std::fs::metadata(partial)?.len();
    Ok(BackupDone { bytes, pages })
}
