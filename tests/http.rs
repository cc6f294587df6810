//! The HTTP skeleton end to end: the app on a real port (0), a real database (SQLite always,
//! PostgreSQL when configured), a real HTTP client.

mod support;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::config::Config;
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::store::{NewUser, Store};
use serde_json::Value;
use support::TestDb;

struct App {
    base: String,
    client: reqwest::Client,
    clock: Arc<ManualClock>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn spawn_app(store: Arc<dyn Store>, now: DateTime<Utc>) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let config = Config::default();
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    let switchboard = Arc::new(perezvon::switchboard::Switchboard::new(
        store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    ));
    let state = AppState {
        config: Arc::new(config),
        store,
        calendar,
        clock: clock.clone(),
        switchboard,
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(perezvon::http::serve(listener, state, async {
        let _ = rx.await;
    }));
    App {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        clock,
        shutdown: Some(tx),
        server,
    }
}

impl App {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn msk(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Moscow
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

on_both_backends!(
    health_and_readiness,
    next_window_api,
    bearer_tokens,
    limits_ids_and_errors,
    graceful_shutdown
);

async fn health_and_readiness(db: &TestDb) {
    let app = spawn_app(db.store.clone(), msk(2026, 12, 1, 10, 0)).await;
    let (s, body) = app.get("/healthz").await;
    assert_eq!((s, body["status"].as_str()), (200, Some("ok")));
    let (s, body) = app.get("/readyz").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"]["reachable"], true);
    assert_eq!(body["database"]["health"]["migrations_current"], true);
    assert_eq!(body["database"]["health"]["backend"], db.store.backend());
    let years: Vec<i64> = body["calendar"]["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["year"].as_i64().unwrap())
        .collect();
    for y in 2024..=2027 {
        assert!(years.contains(&y), "{body}");
    }
    assert_eq!(body["calendar"]["fallback_years"], serde_json::json!([]));
    assert_eq!(body["repairs"]["orphaned_operators"], 0, "{body}");
    assert_eq!(body["repairs"]["stuck_connecting"], 0, "{body}");
    // A year later, 2028 has no data: readiness still holds, but the fallback is reported loudly.
    app.clock.set(msk(2027, 11, 2, 10, 0));
    let (s, body) = app.get("/readyz").await;
    assert_eq!(s, 200);
    assert_eq!(
        body["calendar"]["fallback_years"],
        serde_json::json!([2028]),
        "{body}"
    );
    assert!(
        body["calendar"]["warnings"].to_string().contains("2028"),
        "{body}"
    );
}

async fn next_window_api(db: &TestDb) {
    let app = spawn_app(db.store.clone(), msk(2026, 11, 27, 17, 59)).await;
    let (s, w) = app.get("/api/v1/calendar/next-window").await;
    assert_eq!(s, 200);
    assert_eq!(
        (w["start"].as_str(), w["end"].as_str()),
        (
            Some("2026-11-27T09:00:00+03:00"),
            Some("2026-11-27T18:00:00+03:00")
        )
    );
    assert_eq!(w["open_now"], true);
    let (s, w) = app
        .get("/api/v1/calendar/next-window?at=2026-11-27T15:00:00Z")
        .await;
    assert_eq!(s, 200);
    assert_eq!(w["start"], "2026-11-30T09:00:00+03:00");
    assert_eq!(w["open_now"], false);
    // New Year holidays: 31 Dec 2026 is a day off, 1–8 Jan holidays, 9–10 Jan a weekend.
    let (_, w) = app
        .get("/api/v1/calendar/next-window?at=2026-12-30T18:30:00%2B03:00")
        .await;
    assert_eq!(
        (w["start"].as_str(), w["end"].as_str()),
        (
            Some("2027-01-11T09:00:00+03:00"),
            Some("2027-01-11T18:00:00+03:00")
        )
    );
    let (s, e) = app.get("/api/v1/calendar/next-window?at=tomorrow").await;
    assert_eq!(s, 400);
    assert!(e["error"].as_str().unwrap().contains("RFC 3339"), "{e}");
    let (s, days) = app
        .get("/api/v1/calendar/days?from=2026-11-02&to=2026-11-04")
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        days[1],
        serde_json::json!({"date": "2026-11-03", "kind": "shortened", "open": "09:00", "close": "17:00"})
    );
    assert_eq!(days[2]["kind"], "holiday");
    let (s, e) = app.get("/api/v1/calendar/days?from=2026-11-02").await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("to"), "{e}");
}

async fn bearer_tokens(db: &TestDb) {
    let app = spawn_app(db.store.clone(), msk(2026, 12, 1, 10, 0)).await;
    let u = NewUser {
        login: "petrova".into(),
        display_name: "Петрова".into(),
        role: Role::Supervisor,
        password_hash: "secret-hash".into(),
    };
    let user = db.store.create_user(&u, app.clock.now()).await.unwrap();
    let (token, hash) = perezvon::secrets::new_token();
    db.store
        .create_token(user.id, &hash, "test", None, app.clock.now())
        .await
        .unwrap();

    let url = format!("{}/api/v1/me", app.base);
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let r = app
        .client
        .get(&url)
        .bearer_auth("pzv_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        (me["login"].as_str(), me["role"].as_str()),
        (Some("petrova"), Some("supervisor"))
    );
    assert!(!me.to_string().contains("secret-hash"), "{me}");
    db.store
        .revoke_tokens("petrova", app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        app.client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn limits_ids_and_errors(db: &TestDb) {
    let app = spawn_app(db.store.clone(), msk(2026, 12, 1, 10, 0)).await;
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID request id: {id}");
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let (s, e) = app.get("/no/such/thing").await;
    assert_eq!(s, 404);
    assert_eq!(e["error"], "no such route");
    // A body declared larger than the limit is refused from its headers alone. Sent over a raw
    // socket so the client never races the server closing the connection mid-upload.
    let head = raw_request(
        &app.base,
        &format!(
            "POST /api/v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            (1 << 20) + 1
        ),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    // At the limit the body is read whole and judged on its content (not JSON), not its size.
    let u = NewUser {
        login: "ivanova".into(),
        display_name: "Иванова".into(),
        role: Role::Supervisor,
        password_hash: "secret-hash".into(),
    };
    let user = db.store.create_user(&u, app.clock.now()).await.unwrap();
    let (token, hash) = perezvon::secrets::new_token();
    db.store
        .create_token(user.id, &hash, "test", None, app.clock.now())
        .await
        .unwrap();
    let r = app
        .client
        .put(format!("{}/api/v1/operators/ivanova/presence", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(vec![b'x'; 1 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// Writes `request` to the server and returns what it answers, up to the end of the headers.
async fn raw_request(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    sock.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn graceful_shutdown(db: &TestDb) {
    let mut app = spawn_app(db.store.clone(), msk(2026, 12, 1, 10, 0)).await;
    assert_eq!(app.get("/healthz").await.0, 200);
    app.shutdown.take().unwrap().send(()).unwrap();
    let done = tokio::time::timeout(std::time::Duration::from_secs(10), &mut app.server).await;
    assert!(
        matches!(done, Ok(Ok(Ok(())))),
        "server stopped cleanly: {done:?}"
    );
    assert!(
        app.client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn readyz_reports_unmigrated_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = perezvon::store::sqlite::SqliteStore::open(&dir.path().join("fresh.db"))
        .await
        .unwrap();
    let app = spawn_app(Arc::new(store), msk(2026, 12, 1, 10, 0)).await;
    let (s, body) = app.get("/readyz").await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["database"]["health"]["migrations_current"], false);
    assert_eq!(body["database"]["health"]["applied_version"], 0);
}
