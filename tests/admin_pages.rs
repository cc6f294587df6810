//! The administration pages and their API: users (add, role, disable, password — administrators
//! only), operators (add, contact, presence override), the production calendar's status with the
//! October warning, and the audit log with its filters; who may open what; CSRF on every form;
//! audit entries with masked contacts — on SQLite and PostgreSQL.

mod support;

use chrono::{TimeZone, Utc};
use perezvon::clock::Clock;
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::store::{AuditEntry, NewAuditEntry};
use reqwest::Method;
use serde_json::{Value, json};
use support::TestDb;
use support::web::{PASSWORD, Session, WebApp};

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f(TestDb::sqlite().await).await;
    if let Some(db) = TestDb::postgres().await {
        f(db).await;
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn audit(app: &WebApp, action: &str) -> Vec<AuditEntry> {
    let all = app.store.recent_audit(200).await.unwrap();
    all.into_iter().filter(|a| a.action == action).collect()
}

async fn api(
    app: &WebApp,
    method: Method,
    path: &str,
    s: &Session,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.with_session(method, path, s);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_admin_adds_a_user_who_then_signs_in_and_forms_need_the_csrf_field() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("root", Role::Admin).await;
        let s = app.sign_in("root").await;
        let (status, html) = app.get_page("/admin/users", &s).await;
        assert_eq!(status, 200);
        for hook in [
            r#"<form id="user-add""#,
            r#"name="login""#,
            r#"name="display_name""#,
            r#"name="password""#,
            r#"<option value="supervisor""#,
            r#"data-login="root""#,
        ] {
            assert!(html.contains(hook), "{hook} missing");
        }

        let form = [
            ("login", "petrova"),
            ("display_name", "Мария Петрова"),
            ("role", "supervisor"),
            ("password", "a long new password"),
        ];
        // Without the _csrf field: refused, nothing created.
        let r = app
            .with_cookie(Method::POST, "/admin/users", &s)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(app.store.user_by_login("petrova").await.unwrap().is_none());

        let r = app.post_form("/admin/users", &s, &form).await;
        assert_eq!(r.status(), 303);
        let to = location(&r);
        assert_eq!(to, "/admin/users?done=user.create&who=petrova");
        let (_, html) = app.get_page(&to, &s).await;
        assert!(html.contains(r#"id="flash""#) && html.contains("«petrova» создан"));
        assert!(html.contains(r#"data-login="petrova""#));
        let u = app.store.user_by_login("petrova").await.unwrap().unwrap();
        assert_eq!(
            (u.role, u.display_name.as_str()),
            (Role::Supervisor, "Мария Петрова")
        );
        assert_eq!(
            app.post_login("petrova", "a long new password")
                .await
                .status(),
            303
        );
        let a = audit(&app, "user.create").await;
        assert_eq!(
            (a[0].actor.as_str(), a[0].subject.as_str()),
            ("root", "user:petrova")
        );
        assert!(!a[0].detail.contains("password"));

        // Refusals are shown on the form in Russian, the typed values kept.
        let r = app
            .post_form(
                "/admin/users",
                &s,
                &[
                    ("login", "sidorov"),
                    ("role", "operator"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("не короче 10 символов") && html.contains(r#"value="sidorov""#));
        let r = app
            .post_form(
                "/admin/users",
                &s,
                &[
                    ("login", "petrova"),
                    ("role", "operator"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);
        assert!(r.text().await.unwrap().contains("уже занят"));
        let r = app
            .post_form(
                "/admin/users",
                &s,
                &[
                    ("login", "и в"),
                    ("role", "operator"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), 400);
        assert!(app.store.user_by_login("sidorov").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn who_may_open_which_page() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        app.user("boss", Role::Supervisor).await;
        let op = app.sign_in("ivanova").await;
        let boss = app.sign_in("boss").await;
        let pages = [
            "/admin",
            "/admin/users",
            "/admin/operators",
            "/admin/calendar",
            "/admin/audit",
        ];
        for p in pages {
            let (status, html) = app.get_page(p, &op).await;
            assert_eq!(status, 403, "{p} for an operator");
            assert!(html.contains("Доступ запрещён"), "{p}: {html}");
            let (status, _) = app.get_page(p, &boss).await;
            let want = if p == "/admin/users" { 403 } else { 200 };
            assert_eq!(status, want, "{p} for a supervisor");
        }
        for p in [
            "/admin/users",
            "/admin/users/ivanova/disable",
            "/admin/operators",
            "/admin/operators/ivanova/presence",
        ] {
            let r = app.post_form(p, &op, &[("state", "offline")]).await;
            assert_eq!(r.status(), 403, "POST {p} for an operator");
        }
        let r = app
            .post_form("/admin/users/ivanova/disable", &boss, &[])
            .await;
        assert_eq!(r.status(), 403, "supervisors do not manage users");
        assert!(
            !app.store
                .user_by_login("ivanova")
                .await
                .unwrap()
                .unwrap()
                .disabled
        );
        let r = app
            .http
            .get(format!("{}/admin", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with("/login?next="));
    })
    .await;
}

#[tokio::test]
async fn role_change_disable_enable_and_password_reset() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("root", Role::Admin).await;
        app.user("ivanova", Role::Operator).await;
        let s = app.sign_in("root").await;
        let victim = app.sign_in("ivanova").await;

        let r = app
            .post_form("/admin/users/ivanova/role", &s, &[("role", "supervisor")])
            .await;
        assert_eq!(r.status(), 303);
        let u = app.store.user_by_login("ivanova").await.unwrap().unwrap();
        assert_eq!(u.role, Role::Supervisor);
        assert!(
            audit(&app, "user.role").await[0]
                .detail
                .contains("supervisor")
        );

        // Disabling ends the user's session at once.
        let me = || app.with_cookie(Method::GET, "/api/v1/me", &victim).send();
        assert_eq!(me().await.unwrap().status(), 200);
        let r = app.post_form("/admin/users/ivanova/disable", &s, &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(me().await.unwrap().status(), 401);
        assert_eq!(app.post_login("ivanova", PASSWORD).await.status(), 401);
        let r = app.post_form("/admin/users/ivanova/enable", &s, &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(audit(&app, "user.disable").await.len(), 1);
        assert_eq!(audit(&app, "user.enable").await.len(), 1);

        // A new password: the old one stops working and the user's sessions end.
        let again = app.sign_in("ivanova").await;
        let r = app
            .post_form(
                "/admin/users/ivanova/password",
                &s,
                &[("password", "brand new password 1")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let gone = app
            .with_cookie(Method::GET, "/api/v1/me", &again)
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 401);
        assert_eq!(app.post_login("ivanova", PASSWORD).await.status(), 401);
        assert_eq!(
            app.post_login("ivanova", "brand new password 1")
                .await
                .status(),
            303
        );
        let p = audit(&app, "user.password").await;
        assert!(!p[0].detail.contains("brand new"), "{}", p[0].detail);

        // Nobody disables or demotes themself; the last administrator stays.
        for (path, fields) in [
            ("/admin/users/root/disable", vec![]),
            ("/admin/users/root/role", vec![("role", "operator")]),
        ] {
            let r = app.post_form(path, &s, &fields).await;
            assert_eq!(r.status(), 409, "{path}");
            assert!(r.text().await.unwrap().contains("Нельзя отключить себя"));
        }
        let cli = perezvon::admin::Ctx {
            store: &*app.store,
            actor: "cli",
            now: app.clock.now(),
        };
        let e = perezvon::admin::users::set_disabled(cli, "root", true)
            .await
            .unwrap_err();
        assert!(
            matches!(e, perezvon::admin::AdminError::LastAdmin(_)),
            "{e}"
        );
        let root = app.store.user_by_login("root").await.unwrap().unwrap();
        assert!(!root.disabled && root.role == Role::Admin);
        // With a second administrator, the first may be demoted by someone else.
        app.user("root2", Role::Admin).await;
        perezvon::admin::users::set_role(cli, "root", Role::Supervisor)
            .await
            .unwrap();
        let e = perezvon::admin::users::set_role(cli, "root2", Role::Operator)
            .await
            .unwrap_err();
        assert!(
            matches!(e, perezvon::admin::AdminError::LastAdmin(_)),
            "{e}"
        );
    })
    .await;
}

#[tokio::test]
async fn operators_are_added_edited_and_their_presence_overridden() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("boss", Role::Supervisor).await;
        let s = app.sign_in("boss").await;
        let (status, html) = app.get_page("/admin/operators", &s).await;
        assert_eq!(status, 200);
        for hook in [
            r#"<form id="operator-add""#,
            r#"name="name""#,
            r#"name="contact_kind""#,
            r#"<option value="extension""#,
            r#"name="contact""#,
        ] {
            assert!(html.contains(hook), "{hook} missing");
        }
        let r = app
            .post_form(
                "/admin/operators",
                &s,
                &[
                    ("login", "sidorov"),
                    ("name", "Пётр Сидоров"),
                    ("contact_kind", "phone"),
                    ("contact", "84951234567"),
                ],
            )
            .await;
        assert_eq!(r.status(), 400, "not E.164");
        assert!(r.text().await.unwrap().contains("международном формате"));
        assert!(app.store.user_by_login("sidorov").await.unwrap().is_none());
        let r = app
            .post_form(
                "/admin/operators",
                &s,
                &[
                    ("login", "sidorov"),
                    ("name", "Пётр Сидоров"),
                    ("contact_kind", "phone"),
                    ("contact", "+74951234567"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = app.get_page(&location(&r), &s).await;
        assert!(html.contains(r#"data-login="sidorov""#) && html.contains(r#"id="flash""#));
        let u = app.store.user_by_login("sidorov").await.unwrap().unwrap();
        assert_eq!(u.role, Role::Operator);
        let op = app
            .store
            .operator_by_login("sidorov")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (op.contact_kind, op.contact.as_str(), op.presence),
            (ContactKind::Phone, "+74951234567", Presence::Offline)
        );
        let created = audit(&app, "operator.create").await;
        assert_eq!(created[0].subject, "operator:sidorov");
        assert!(
            !created[0].detail.contains("+74951234567"),
            "{}",
            created[0].detail
        );
        assert!(created[0].detail.contains("4567"));
        // One operator per user.
        let r = app
            .post_form(
                "/admin/operators",
                &s,
                &[
                    ("login", "sidorov"),
                    ("name", "X"),
                    ("contact_kind", "extension"),
                    ("contact", "101"),
                ],
            )
            .await;
        assert_eq!(r.status(), 409);

        let r = app
            .post_form(
                "/admin/operators/sidorov/contact",
                &s,
                &[
                    ("contact_kind", "sip"),
                    ("contact", "sip:sidorov@pbx.school.ru"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let op = app
            .store
            .operator_by_login("sidorov")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(op.contact, "sip:sidorov@pbx.school.ru");
        let changed = audit(&app, "operator.contact").await;
        assert!(!changed[0].detail.contains("+74951234567"));
        assert!(
            !changed[0].detail.contains("sip:sidorov@pbx"),
            "{}",
            changed[0].detail
        );

        let r = app
            .post_form(
                "/admin/operators/sidorov/presence",
                &s,
                &[("state", "available")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let op = app
            .store
            .operator_by_login("sidorov")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(op.presence, Presence::Available);
        let p = audit(&app, "operator.presence").await;
        assert_eq!(
            (p[0].actor.as_str(), p[0].subject.as_str()),
            ("boss", "operator:sidorov")
        );
        let r = app
            .post_form(
                "/admin/operators/sidorov/presence",
                &s,
                &[("state", "on_call")],
            )
            .await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("только звонком"));
        let r = app
            .post_form(
                "/admin/operators/nobody/presence",
                &s,
                &[("state", "break")],
            )
            .await;
        assert_eq!(r.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_action_and_moscow_dates() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("boss", Role::Supervisor).await;
        let entry = |actor: &str, action: &str| NewAuditEntry {
            actor: actor.into(),
            action: action.into(),
            subject: "user:x".into(),
            detail: "{}".into(),
            request_id: None,
        };
        // 23:00 on 30 November and 01:30 on 1 December, Moscow time; then 2 and 3 December.
        let at = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap();
        let dec = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        let s = &app.store;
        s.audit(&entry("petrov", "user.disable"), at(30, 20, 0))
            .await
            .unwrap();
        s.audit(&entry("petrov", "user.enable"), at(30, 22, 30))
            .await
            .unwrap();
        s.audit(&entry("ivanova", "user.disable"), dec(2, 9))
            .await
            .unwrap();
        s.audit(&entry("petrov", "user.role"), dec(3, 9))
            .await
            .unwrap();
        let boss = app.sign_in("boss").await;
        let ids = |v: &Value| -> Vec<(String, String)> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["actor"].as_str().unwrap().to_owned(),
                        e["action"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        };
        let get = |q: &'static str| api(&app, Method::GET, q, &boss, None);
        let (st, v) = get("/api/v1/audit?actor=petrov").await;
        assert_eq!(st, 200);
        let p = |a: &str| ("petrov".to_owned(), a.to_owned());
        assert_eq!(
            ids(&v),
            vec![p("user.role"), p("user.enable"), p("user.disable")]
        );
        let (_, v) = get("/api/v1/audit?action=user.disable").await;
        assert_eq!(
            ids(&v),
            vec![("ivanova".into(), "user.disable".into()), p("user.disable")]
        );
        let (_, v) = get("/api/v1/audit?from=2026-12-01&to=2026-12-02&actor=petrov").await;
        assert_eq!(ids(&v), vec![p("user.enable")]);
        let (_, v) = get("/api/v1/audit?from=2026-12-01&to=2026-12-02").await;
        assert_eq!(
            v.as_array().unwrap().len(),
            3,
            "the sign-in of boss, 01:30 and 2 December"
        );
        let (_, v) = get("/api/v1/audit?actor=petrov&limit=2").await;
        assert_eq!(ids(&v), vec![p("user.role"), p("user.enable")]);
        let last = v[1]["id"].as_i64().unwrap();
        let (_, v) = api(
            &app,
            Method::GET,
            &format!("/api/v1/audit?actor=petrov&limit=2&before_id={last}"),
            &boss,
            None,
        )
        .await;
        assert_eq!(ids(&v), vec![p("user.disable")]);
        assert_eq!(get("/api/v1/audit?from=1.12.2026").await.0, 400);

        let (st, html) = app
            .get_page(
                "/admin/audit?actor=petrov&action=user.enable&from=2026-12-01&to=2026-12-01",
                &boss,
            )
            .await;
        assert_eq!(st, 200);
        assert_eq!(html.matches("<tr data-id=").count(), 1, "{html}");
        assert!(html.contains("01.12.2026 01:30:00"), "Moscow time: {html}");
        let (st, _) = app.get_page("/admin/audit?from=junk", &boss).await;
        assert_eq!(st, 400);
    })
    .await;
}

#[tokio::test]
async fn the_calendar_warns_from_october_when_next_year_is_missing() {
    // The built-in data covers 2024–2027, so 2028 is missing.
    let db = TestDb::sqlite().await;
    let app = WebApp::spawn(&db).await;
    app.user("boss", Role::Supervisor).await;
    let check = |when: chrono::DateTime<Utc>, warned: bool| {
        let app = &app;
        async move {
            app.clock.set(when);
            let s = app.sign_in("boss").await;
            for page in ["/admin/calendar", "/admin"] {
                let (st, html) = app.get_page(page, &s).await;
                assert_eq!(st, 200);
                assert_eq!(
                    html.contains(r#"id="calendar-warning""#),
                    warned,
                    "{page} at {when}"
                );
                assert_eq!(html.contains("на 2028 год"), warned, "{page} at {when}");
            }
            let (st, v) = api(app, Method::GET, "/api/v1/calendar/status", &s, None).await;
            assert_eq!(st, 200);
            assert_eq!(v["next_year_missing"], warned, "{v}");
        }
    };
    // 23:59 on 30 September and 00:01 on 1 October, Moscow time.
    check(Utc.with_ymd_and_hms(2027, 9, 30, 20, 59, 0).unwrap(), false).await;
    check(Utc.with_ymd_and_hms(2027, 9, 30, 21, 1, 0).unwrap(), true).await;
    check(Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap(), false).await;
    let s = app.sign_in("boss").await;
    let (_, html) = app.get_page("/admin/calendar", &s).await;
    assert!(
        html.contains("1 января 2027, пт"),
        "the next days off: {html}"
    );
    assert!(html.contains(r#"data-year="2027""#));
}

#[tokio::test]
async fn the_admin_api_needs_the_right_role() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        app.user("root", Role::Admin).await;
        let op = app.sign_in("ivanova").await;
        let root = app.sign_in("root").await;
        let gets = ["/api/v1/users", "/api/v1/audit", "/api/v1/calendar/status"];
        for p in gets {
            let r = app.http.get(format!("{}{p}", app.base)).send().await.unwrap();
            assert_eq!(r.status(), 401, "{p} without credentials");
            assert_eq!(api(&app, Method::GET, p, &op, None).await.0, 403, "{p} for an operator");
            assert_eq!(api(&app, Method::GET, p, &root, None).await.0, 200, "{p} for an admin");
        }
        let r = app
            .http
            .post(format!("{}/api/v1/operators", app.base))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let new_user = json!({"login": "petrova", "role": "operator", "password": "long enough pw"});
        assert_eq!(api(&app, Method::POST, "/api/v1/users", &op, Some(new_user.clone())).await.0, 403);
        let (st, v) = api(&app, Method::POST, "/api/v1/users", &root, Some(new_user)).await;
        assert_eq!(st, 201, "{v}");
        assert_eq!(v["display_name"], "petrova");
        assert!(v.get("password_hash").is_none());
        let (st, v) = api(
            &app,
            Method::PUT,
            "/api/v1/users/petrova",
            &root,
            Some(json!({"role": "supervisor", "display_name": "Мария"})),
        )
        .await;
        assert_eq!((st, v["role"].as_str()), (200, Some("supervisor")), "{v}");
        let (st, v) = api(&app, Method::PUT, "/api/v1/users/root", &root, Some(json!({"disabled": true}))).await;
        assert_eq!(st, 409, "{v}");
        let (st, _) = api(
            &app,
            Method::POST,
            "/api/v1/users/petrova/password",
            &root,
            Some(json!({"password": "another long one"})),
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(app.post_login("petrova", "another long one").await.status(), 303);

        let new_op = json!({"login": "petrova", "name": "Мария", "contact_kind": "extension", "contact": "204"});
        assert_eq!(api(&app, Method::POST, "/api/v1/operators", &op, Some(new_op.clone())).await.0, 403);
        let (st, v) = api(&app, Method::POST, "/api/v1/operators", &root, Some(new_op)).await;
        assert_eq!((st, v["contact"].as_str()), (201, Some("204")), "{v}");
        let (st, v) = api(
            &app,
            Method::PUT,
            "/api/v1/operators/petrova",
            &root,
            Some(json!({"contact_kind": "phone", "contact": "not a number"})),
        )
        .await;
        assert_eq!(st, 400, "{v}");
        let (st, v) = api(
            &app,
            Method::PUT,
            "/api/v1/operators/petrova",
            &root,
            Some(json!({"contact_kind": "phone", "contact": "+74951112233"})),
        )
        .await;
        assert_eq!((st, v["contact"].as_str()), (200, Some("+74951112233")), "{v}");
        assert_eq!(
            api(&app, Method::PUT, "/api/v1/operators/petrova", &op, Some(json!({"contact_kind": "extension", "contact": "11"}))).await.0,
            403
        );
    })
    .await;
}
