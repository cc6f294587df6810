//! Every route of the service with the roles allowed to use it, and proof that each is refused
//! without them: no credentials → 401 (API) or a redirect to `/login` (pages); a role below the
//! route's → 403; the allowed roles get past authorization (any status but 401/403). The table is
//! checked against the routes registered in the source, so a new route cannot be added without
//! saying here who may use it.

mod support;

use std::collections::BTreeSet;

use perezvon::domain::user::Role;
use reqwest::Method;
use support::TestDb;
use support::web::{Session, WebApp};

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Access {
    /// Everyone, no sign-in.
    Public,
    /// Signed provider webhooks: 403 without a valid signature.
    Webhook,
    /// The sign-in form's target: a wrong password is 401, by design.
    SignIn,
    /// Any signed-in user.
    Signed,
    /// Users with an operator profile (the test's supervisor and admin have none).
    OperatorProfile,
    Supervisor,
    Admin,
}

/// (method, route as registered, a concrete path to request, access).
#[rustfmt::skip]
const ROUTES: &[(&str, &str, &str, Access)] = &[
    ("GET", "/healthz", "/healthz", Access::Public),
    ("GET", "/readyz", "/readyz", Access::Public),
    ("GET", "/metrics", "/metrics", Access::Public),
    ("GET", "/audio/prompts/{*path}", "/audio/prompts/ru/static/greeting.wav", Access::Public),
    ("GET", "/assets/{name}", "/assets/app.css", Access::Public),
    ("GET", "/login", "/login", Access::Public),
    ("GET", "/", "/", Access::Signed),
    ("GET", "/events", "/events", Access::Signed),
    ("GET", "/admin", "/admin", Access::Supervisor),
    ("GET", "/admin/users", "/admin/users", Access::Admin),
    ("POST", "/admin/users", "/admin/users", Access::Admin),
    ("POST", "/admin/users/{login}/role", "/admin/users/nobody/role", Access::Admin),
    ("POST", "/admin/users/{login}/disable", "/admin/users/nobody/disable", Access::Admin),
    ("POST", "/admin/users/{login}/enable", "/admin/users/nobody/enable", Access::Admin),
    ("POST", "/admin/users/{login}/password", "/admin/users/nobody/password", Access::Admin),
    ("GET", "/admin/operators", "/admin/operators", Access::Supervisor),
    ("POST", "/admin/operators", "/admin/operators", Access::Supervisor),
    ("POST", "/admin/operators/{login}/contact", "/admin/operators/nobody/contact", Access::Supervisor),
    ("POST", "/admin/operators/{login}/presence", "/admin/operators/nobody/presence", Access::Supervisor),
    ("GET", "/admin/blocklist", "/admin/blocklist", Access::Supervisor),
    ("POST", "/admin/blocklist", "/admin/blocklist", Access::Supervisor),
    ("POST", "/admin/blocklist/{id}/remove", "/admin/blocklist/999999/remove", Access::Supervisor),
    ("POST", "/admin/blocklist/limits", "/admin/blocklist/limits", Access::Supervisor),
    ("GET", "/admin/calendar", "/admin/calendar", Access::Supervisor),
    ("GET", "/admin/audit", "/admin/audit", Access::Supervisor),
    ("GET", "/admin/callbacks", "/admin/callbacks", Access::Supervisor),
    ("GET", "/admin/callbacks/new", "/admin/callbacks/new", Access::Supervisor),
    ("POST", "/admin/callbacks/new", "/admin/callbacks/new", Access::Supervisor),
    ("GET", "/admin/callbacks/{id}", "/admin/callbacks/999999", Access::Supervisor),
    ("POST", "/admin/callbacks/{id}/release", "/admin/callbacks/999999/release", Access::Supervisor),
    ("POST", "/admin/callbacks/{id}/reassign", "/admin/callbacks/999999/reassign", Access::Supervisor),
    ("POST", "/admin/callbacks/{id}/close", "/admin/callbacks/999999/close", Access::Supervisor),
    ("GET", "/stats", "/stats", Access::Supervisor),
    ("GET", "/stats/forecast", "/stats/forecast", Access::Supervisor),
    ("GET", "/board", "/board", Access::Supervisor),
    ("GET", "/board/events", "/board/events", Access::Supervisor),
    ("GET", "/schedule", "/schedule", Access::Public),
    ("GET", "/schedule/embed", "/schedule/embed", Access::Public),
    ("GET", "/schedule.ics", "/schedule.ics", Access::Public),
    ("POST", "/login", "/login", Access::SignIn),
    ("POST", "/logout", "/logout", Access::Public),
    ("POST", "/webhooks/twilio/{*rest}", "/webhooks/twilio/voice", Access::Webhook),
    ("GET", "/webhooks/zadarma", "/webhooks/zadarma?zd_echo=x", Access::Public),
    ("POST", "/webhooks/zadarma", "/webhooks/zadarma", Access::Webhook),
    ("GET", "/api/v1/calendar/next-window", "/api/v1/calendar/next-window", Access::Public),
    ("GET", "/api/v1/calendar/days", "/api/v1/calendar/days?from=2026-12-01&to=2026-12-31", Access::Public),
    ("GET", "/api/v1/calendar/follow-up-slots", "/api/v1/calendar/follow-up-slots", Access::Public),
    ("GET", "/api/v1/calendar/status", "/api/v1/calendar/status", Access::Supervisor),
    ("GET", "/api/v1/me", "/api/v1/me", Access::Signed),
    ("GET", "/api/v1/users", "/api/v1/users", Access::Admin),
    ("POST", "/api/v1/users", "/api/v1/users", Access::Admin),
    ("PUT", "/api/v1/users/{login}", "/api/v1/users/nobody", Access::Admin),
    ("POST", "/api/v1/users/{login}/password", "/api/v1/users/nobody/password", Access::Admin),
    ("POST", "/api/v1/operators", "/api/v1/operators", Access::Supervisor),
    ("PUT", "/api/v1/operators/{login}", "/api/v1/operators/nobody", Access::Supervisor),
    ("GET", "/api/v1/blocklist", "/api/v1/blocklist", Access::Supervisor),
    ("POST", "/api/v1/blocklist", "/api/v1/blocklist", Access::Supervisor),
    ("DELETE", "/api/v1/blocklist/{id}", "/api/v1/blocklist/999999", Access::Supervisor),
    ("GET", "/api/v1/limits", "/api/v1/limits", Access::Supervisor),
    ("PUT", "/api/v1/limits", "/api/v1/limits", Access::Supervisor),
    ("GET", "/api/v1/audit", "/api/v1/audit", Access::Supervisor),
    ("GET", "/api/v1/stats/summary", "/api/v1/stats/summary", Access::Supervisor),
    ("GET", "/api/v1/stats/hourly", "/api/v1/stats/hourly", Access::Supervisor),
    ("GET", "/api/v1/stats/daily", "/api/v1/stats/daily", Access::Supervisor),
    ("GET", "/api/v1/stats/operators", "/api/v1/stats/operators", Access::Supervisor),
    ("GET", "/api/v1/stats/abandoned", "/api/v1/stats/abandoned", Access::Supervisor),
    ("GET", "/api/v1/stats/forecast", "/api/v1/stats/forecast", Access::Supervisor),
    ("GET", "/api/v1/stats/live", "/api/v1/stats/live", Access::Supervisor),
    ("GET", "/api/v1/stats/callbacks", "/api/v1/stats/callbacks", Access::Supervisor),
    ("POST", "/api/v1/callbacks", "/api/v1/callbacks", Access::Supervisor),
    ("POST", "/api/v1/callbacks/{id}/reassign", "/api/v1/callbacks/999999/reassign", Access::Supervisor),
    ("POST", "/api/v1/callbacks/{id}/close", "/api/v1/callbacks/999999/close", Access::Supervisor),
    ("GET", "/api/v1/callbacks/{id}/contacts", "/api/v1/callbacks/999999/contacts", Access::Signed),
    ("GET", "/api/v1/operators", "/api/v1/operators", Access::Signed),
    ("PUT", "/api/v1/operators/{login}/presence", "/api/v1/operators/op/presence", Access::Signed),
    ("GET", "/api/v1/calls", "/api/v1/calls", Access::Supervisor),
    ("GET", "/api/v1/voicemails", "/api/v1/voicemails", Access::Signed),
    ("GET", "/api/v1/voicemails/{id}/audio", "/api/v1/voicemails/999999/audio", Access::Signed),
    ("GET", "/api/v1/callbacks", "/api/v1/callbacks", Access::Signed),
    ("GET", "/api/v1/callbacks/topics", "/api/v1/callbacks/topics", Access::Signed),
    ("GET", "/api/v1/callbacks/search", "/api/v1/callbacks/search?q=1", Access::Signed),
    ("GET", "/api/v1/callbacks/schedule", "/api/v1/callbacks/schedule", Access::Signed),
    ("POST", "/api/v1/callbacks/claim", "/api/v1/callbacks/claim", Access::OperatorProfile),
    ("GET", "/api/v1/callbacks/{id}", "/api/v1/callbacks/999999", Access::Signed),
    ("POST", "/api/v1/callbacks/{id}/dial", "/api/v1/callbacks/999999/dial", Access::OperatorProfile),
    ("POST", "/api/v1/callbacks/{id}/outcome", "/api/v1/callbacks/999999/outcome", Access::Signed),
    ("POST", "/api/v1/callbacks/{id}/release", "/api/v1/callbacks/999999/release", Access::Signed),
    ("POST", "/api/v1/callbacks/{id}/reply", "/api/v1/callbacks/999999/reply", Access::Signed),
    ("GET", "/api/v1/callbacks/{id}/letters", "/api/v1/callbacks/999999/letters", Access::Signed),
];

/// Source files that register routes, with the prefix their router is nested under.
const ROUTER_FILES: &[(&str, &str)] = &[
    ("src/http/mod.rs", ""),
    ("src/http/api/mod.rs", "/api/v1"),
    ("src/http/webhooks/mod.rs", ""),
    ("src/http/pages/mod.rs", ""),
    ("src/http/pages/operator.rs", ""),
    ("src/http/pages/admin/mod.rs", ""),
    ("src/http/pages/supervise/mod.rs", ""),
    ("src/http/pages/stats/mod.rs", ""),
    ("src/http/api/callback_supervise.rs", "/api/v1"),
    ("src/http/api/blocklist.rs", "/api/v1"),
    ("src/http/schedule.rs", ""),
    ("src/http/schedule/mod.rs", ""),
    ("src/http/metrics/mod.rs", ""),
];

/// `(METHOD, path)` of every `.route("path", get(..).post(..))` in the router files.
fn registered() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeSet::new();
    for (file, prefix) in ROUTER_FILES {
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        for chunk in text.split(".route(").skip(1) {
            let chunk = chunk.trim_start();
            let Some(rest) = chunk.strip_prefix('"') else {
                continue;
            };
            let Some((path, tail)) = rest.split_once('"') else {
                continue;
            };
            // The handler expression runs until the next `.route(` (already split off) or `)`
            // closing this call at depth zero.
            let mut depth = 1;
            let mut end = tail.len();
            for (i, c) in tail.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let handler = &tail[..end];
            for m in ["get", "post", "put", "delete", "patch"] {
                let called = handler.match_indices(&format!("{m}(")).any(|(i, _)| {
                    i == 0
                        || !handler.as_bytes()[i - 1].is_ascii_alphanumeric()
                            && handler.as_bytes()[i - 1] != b'_'
                });
                if called {
                    out.insert((m.to_uppercase(), format!("{prefix}{path}")));
                }
            }
        }
    }
    out
}

#[test]
fn the_table_lists_every_registered_route() {
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, r, _, _)| (m.to_string(), r.to_string()))
        .collect();
    let registered = registered();
    let missing: Vec<_> = registered.difference(&table).collect();
    let stale: Vec<_> = table.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes without an access rule here: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "routes listed here but not registered: {stale:?}"
    );
}

fn is_page(path: &str) -> bool {
    !path.starts_with("/api/") && !path.starts_with("/webhooks/")
}

async fn request(app: &WebApp, m: &str, path: &str, who: Option<&Session>) -> reqwest::Response {
    let method = Method::from_bytes(m.as_bytes()).unwrap();
    let req = match who {
        Some(s) => app.with_session(method.clone(), path, s),
        None => app
            .http
            .request(method.clone(), format!("{}{path}", app.base)),
    };
    let req = if method == Method::GET {
        req
    } else if path.starts_with("/webhooks/zadarma") {
        req.form(&[
            ("event", "NOTIFY_START"),
            ("pbx_call_id", "in_1"),
            ("call_start", "2026-12-07 10:00:00"),
        ])
    } else if path.starts_with("/webhooks/") {
        req.form(&[("CallSid", "CA00000000000000000000000000000001")])
    } else if is_page(path) {
        let csrf = who.map(|s| s.csrf.clone()).unwrap_or_default();
        req.form(&[("_csrf", csrf.as_str())])
    } else {
        req.json(&serde_json::json!({}))
    };
    req.send().await.unwrap()
}

/// Zadarma configured beside Twilio, with API secret `s` and its REST API unreachable.
fn with_zadarma(config: &mut perezvon::config::Config) {
    config.zadarma = Some(perezvon::config::ZadarmaConfig {
        key: "k".into(),
        secret: perezvon::config::Secret::new("s"),
        api_base: "http://127.0.0.1:9".into(),
        from_number: None,
        voicemail_redirect: "0-2".into(),
        prompts: Default::default(),
        hold_music: None,
        hold_tick_secs: 8,
        predicted: false,
        delete_recordings: false,
        extension_of: Default::default(),
    });
}

async fn check(db: TestDb) {
    let mut config = support::twilio::config("http://127.0.0.1:9");
    with_zadarma(&mut config);
    let app = WebApp::spawn_with(&db, config).await;
    app.user("op", Role::Operator).await;
    app.user("sup", Role::Supervisor).await;
    app.user("adm", Role::Admin).await;
    let op = app.sign_in("op").await;
    let sup = app.sign_in("sup").await;
    let adm = app.sign_in("adm").await;
    let mut failures = Vec::new();
    for (m, route, path, access) in ROUTES {
        let anon = request(&app, m, path, None).await;
        let status = anon.status().as_u16();
        let location = anon
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let refused_anon = if is_page(path) {
            status == 303 && location.starts_with("/login")
        } else {
            status == 401
        };
        match access {
            Access::Public => {
                if status == 401 || status == 403 || location.starts_with("/login?") {
                    failures.push(format!("{m} {route}: public, but {status} {location}"));
                }
            }
            Access::SignIn => {
                if status == 403 || location.starts_with("/login?") {
                    failures.push(format!("{m} {route}: the sign-in form gave {status}"));
                }
            }
            Access::Webhook => {
                if status != 403 {
                    failures.push(format!("{m} {route}: unsigned webhook gave {status}"));
                }
            }
            _ => {
                if !refused_anon {
                    failures.push(format!(
                        "{m} {route}: without credentials gave {status} {location}"
                    ));
                }
            }
        }
        let roles: [(&str, &Session, bool); 3] = [
            (
                "operator",
                &op,
                matches!(access, Access::Signed | Access::OperatorProfile),
            ),
            (
                "supervisor",
                &sup,
                matches!(access, Access::Signed | Access::Supervisor),
            ),
            (
                "admin",
                &adm,
                matches!(access, Access::Signed | Access::Supervisor | Access::Admin),
            ),
        ];
        if matches!(access, Access::Public | Access::Webhook | Access::SignIn) {
            continue;
        }
        for (role, session, allowed) in roles {
            let status = request(&app, m, path, Some(session))
                .await
                .status()
                .as_u16();
            let refused = status == 401 || status == 403;
            if allowed == refused {
                failures.push(format!(
                    "{m} {route}: {role} got {status}, expected {}",
                    if allowed { "access" } else { "403" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn each_route_is_refused_without_its_roles_sqlite() {
    check(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn each_route_is_refused_without_its_roles_postgres() {
    if let Some(db) = TestDb::postgres().await {
        check(db).await;
    }
}

/// Bodies a careless or hostile client might send: random bytes, JSON of the wrong shape, forms
/// with odd values. Generated by proptest (seeded: the same cases every run).
fn junk_bodies(n: usize) -> Vec<(Vec<u8>, &'static str)> {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        Just(serde_json::json!([1, "два", null])),
        Just(serde_json::json!({"nested": {"x": []}})),
    ];
    let names = prop::sample::select(vec![
        "number",
        "note",
        "outcome",
        "topic",
        "follow_up",
        "login",
        "role",
        "password",
        "presence",
        "operator",
        "operator_id",
        "reason",
        "category",
        "kind",
        "contact",
        "name",
        "from",
        "to",
        "state",
        "_csrf",
    ]);
    let object = prop::collection::vec((names, value), 0..6).prop_map(|fields| {
        let map: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        serde_json::Value::Object(map).to_string().into_bytes()
    });
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|b| (b, "application/json")),
        object.prop_map(|b| (b, "application/json")),
        "[a-z_]{1,10}=.{0,30}(&[a-z_]{1,10}=.{0,30}){0,4}"
            .prop_map(|s| (s.into_bytes(), "application/x-www-form-urlencoded")),
        prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| (b, "application/x-www-form-urlencoded")),
    ];
    let mut runner = TestRunner::new_with_rng(
        RunnerConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    (0..n)
        .map(|_| body.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// Every route, as an administrator and as an operator, with malformed bodies and ids: a 4xx
/// (or a success that ignores the junk), never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_never_gets_a_5xx() {
    let db = TestDb::sqlite().await;
    let mut config = support::twilio::config("http://127.0.0.1:9");
    with_zadarma(&mut config);
    let app = WebApp::spawn_with(&db, config).await;
    app.user("op", Role::Operator).await;
    app.user("adm", Role::Admin).await;
    let sessions = [app.sign_in("op").await, app.sign_in("adm").await];
    let bodies = junk_bodies(12);
    let mut failures = Vec::new();
    for (m, route, path, _) in ROUTES {
        if *route == "/logout" || path.ends_with("/events") {
            continue;
        }
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let mut paths = vec![path.to_string()];
        if path.contains("999999") {
            for id in ["abc", "-1", "99999999999999999999999", "%00", "1.5"] {
                paths.push(path.replace("999999", id));
            }
        }
        if method == Method::GET {
            paths.push(format!(
                "{path}{}from=2026-13-45&to=x&limit=-5&format=xml&sep=%00",
                if path.contains('?') { "&" } else { "?" }
            ));
        }
        for s in &sessions {
            for p in &paths {
                let cases: Vec<(Vec<u8>, &str)> = if method == Method::GET {
                    vec![(Vec::new(), "application/json")]
                } else {
                    bodies.clone()
                };
                for (body, kind) in cases {
                    let mut body = body;
                    if kind.ends_with("urlencoded") && is_page(p) {
                        // Past the CSRF check, so the handler itself meets the junk.
                        body.extend(format!("&_csrf={}", s.csrf).into_bytes());
                    }
                    let r = app
                        .with_session(method.clone(), p, s)
                        .header("content-type", kind)
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    if status >= 500 {
                        let text = r.text().await.unwrap_or_default();
                        failures.push(format!(
                            "{m} {p}: {status} for {kind} {:?}: {text}",
                            String::from_utf8_lossy(&body)
                        ));
                    }
                }
            }
        }
    }
    db.finish().await;
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Junk forms of `names` (real field names of the provider) with odd values, seeded.
fn junk_forms(names: Vec<&'static str>, n: usize, seed: u8) -> Vec<Vec<(String, String)>> {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
    let value = prop_oneof![
        Just(String::new()),
        Just("in_1".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("1".to_string()),
        Just("completed".to_string()),
        "[0-9]{1,12}",
        ".{0,24}",
    ];
    let form = prop::collection::vec((prop::sample::select(names), value), 0..8);
    let mut runner = TestRunner::new_with_rng(
        RunnerConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..n)
        .map(|_| {
            let pairs = form.new_tree(&mut runner).unwrap().current();
            pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
        })
        .collect()
}

/// The provider webhooks with malformed but correctly signed forms, so that the parsing and the
/// call steps behind the signature check meet the junk: every Twilio route (and unknown ones) and
/// every Zadarma event. A 4xx or a success, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_malformed_webhooks_never_get_a_5xx() {
    use perezvon::telephony::zadarma::signature;
    let db = TestDb::sqlite().await;
    let mut config = support::twilio::config("http://127.0.0.1:9");
    with_zadarma(&mut config);
    let app = WebApp::spawn_with(&db, config).await;
    let mut failures = Vec::new();
    let twilio_paths = [
        "/webhooks/twilio/voice",
        "/webhooks/twilio/status",
        "/webhooks/twilio/dial",
        "/webhooks/twilio/queue/wait",
        "/webhooks/twilio/queue/left",
        "/webhooks/twilio/gather/queue-menu",
        "/webhooks/twilio/gather/voicemail-number?attempt=1",
        "/webhooks/twilio/gather/voicemail-category?attempt=300",
        "/webhooks/twilio/gather/nonsense",
        "/webhooks/twilio/connect?operator=1",
        "/webhooks/twilio/connect?operator=abc",
        "/webhooks/twilio/record",
        "/webhooks/twilio/recording",
        "/webhooks/twilio/callback/connect?attempt=1",
        "/webhooks/twilio/callback/status?attempt=1",
        "/webhooks/twilio/callback/status?attempt=x",
        "/webhooks/twilio/unknown",
    ];
    let twilio_names = vec![
        "CallSid",
        "CallSid",
        "CallStatus",
        "SequenceNumber",
        "CallDuration",
        "DialCallStatus",
        "DialCallDuration",
        "DialCallSid",
        "QueuePosition",
        "QueueTime",
        "QueueResult",
        "Digits",
        "RecordingSid",
        "RecordingUrl",
        "RecordingDuration",
        "RecordingStatus",
        "From",
        "To",
    ];
    for path in twilio_paths {
        for form in junk_forms(twilio_names.clone(), 10, 11) {
            let r = app
                .http
                .post(format!("{}{path}", app.base))
                .header(
                    "X-Twilio-Signature",
                    support::twilio::signature(path, &form),
                )
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            if status == 403 {
                failures.push(format!("POST {path}: a signed request got 403"));
            } else if status >= 500 {
                let text = r.text().await.unwrap_or_default();
                failures.push(format!("POST {path}: {status} for {form:?}: {text}"));
            }
        }
    }
    let events = [
        "NOTIFY_START",
        "NOTIFY_INTERNAL",
        "NOTIFY_ANSWER",
        "NOTIFY_END",
        "NOTIFY_OUT_START",
        "NOTIFY_OUT_END",
        "NOTIFY_RECORD",
        "NOTIFY_IVR",
    ];
    let zadarma_names = vec![
        "pbx_call_id",
        "pbx_call_id",
        "caller_id",
        "called_did",
        "call_start",
        "internal",
        "destination",
        "duration",
        "disposition",
        "is_recorded",
        "call_id_with_rec",
        "wait_dtmf[name]",
        "wait_dtmf[digits]",
        "wait_dtmf[default_behaviour]",
    ];
    for (i, event) in events.iter().enumerate() {
        for mut form in junk_forms(zadarma_names.clone(), 12, 20 + i as u8) {
            form.insert(0, ("event".into(), event.to_string()));
            let signed = signature::signature_string(&form).expect("a known event");
            let r = app
                .http
                .post(format!("{}/webhooks/zadarma", app.base))
                .header("Signature", signature::sign("s", &signed))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            if status == 403 {
                failures.push(format!("{event}: a signed notification got 403"));
            } else if status >= 500 {
                let text = r.text().await.unwrap_or_default();
                failures.push(format!("{event}: {status} for {form:?}: {text}"));
            }
        }
    }
    db.finish().await;
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "{} signed malformed webhook requests (Twilio routes and Zadarma events): none got a 5xx",
        twilio_paths.len() * 10 + events.len() * 12
    );
}
