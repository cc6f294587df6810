//! `perezvon backup --to FILE` while the service writes: the copy is a complete, consistent
//! database that a restored service opens (migrations current, every row committed before the
//! backup started is there); an existing target and a PostgreSQL database are refused with a
//! clear message.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use perezvon::domain::user::Role;
use perezvon::store::sqlite::SqliteStore;
use perezvon::store::{NewUser, Store, UserStore};

fn backup(db: &std::path::Path, to: &std::path::Path, url: Option<&str>) -> std::process::Output {
    let url = url.map_or_else(|| format!("sqlite://{}", db.display()), str::to_owned);
    Command::new(env!("CARGO_BIN_EXE_perezvon"))
        .args(["backup", "--to", to.to_str().unwrap()])
        .env_remove("PEREZVON_CONFIG")
        .env("PEREZVON_DATABASE_URL", url)
        .output()
        .unwrap()
}

fn user(login: String) -> NewUser {
    NewUser {
        login,
        display_name: "x".into(),
        role: Role::Operator,
        password_hash: "x".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_while_writing_restores_to_a_working_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("perezvon.db");
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    store.migrate().await.unwrap();
    for i in 0..200 {
        store
            .create_user(&user(format!("before{i}")), Utc::now())
            .await
            .unwrap();
    }
    // The service keeps writing while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                store
                    .create_user(&user(format!("during{n}")), Utc::now())
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let copy = dir.path().join("backup.db");
    let (db2, copy2) = (db.clone(), copy.clone());
    let out = tokio::task::spawn_blocking(move || backup(&db2, &copy2, None))
        .await
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let written_during = writer.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("integrity check ok"), "{said}");
    assert!(written_during > 0, "the service wrote during the backup");
    // Restore: the copy under the database name of a fresh data directory.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = restored_dir.path().join("perezvon.db");
    std::fs::copy(&copy, &restored).unwrap();
    let r = SqliteStore::open(&restored).await.unwrap();
    r.migrate().await.unwrap();
    assert!(r.health().await.unwrap().migrations_current);
    for i in 0..200 {
        let found = r.user_by_login(&format!("before{i}")).await.unwrap();
        assert!(found.is_some(), "before{i} is in the backup");
    }
    // A second backup to the same file is refused; nothing is overwritten.
    let size = std::fs::metadata(&copy).unwrap().len();
    let again = backup(&db, &copy, None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);
    let pg = backup(
        &db,
        &dir.path().join("pg.db"),
        Some("postgres://postgres@127.0.0.1:5432/test"),
    );
    assert!(!pg.status.success());
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
    assert!(!dir.path().join("pg.db").exists());
}
