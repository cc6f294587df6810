//! A supervisor's work on the callback list, through the JSON API and the pages, on SQLite always
//! and PostgreSQL when configured: requests made by hand (API and form, CSRF required), moving a
//! claim to another operator (one claim per operator), closing with a reason, taking a claim back,
//! the full history, the list's filters, 403 for operators everywhere, and the audit entries with
//! masked numbers.

mod support;

use perezvon::clock::Clock;
use perezvon::domain::user::Role;
use perezvon::store::{DialStart, Store};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use support::TestDb;
use support::web::{Session, WebApp};

on_both_backends!(
    made_by_hand_through_the_api_and_the_form,
    reassign_keeps_one_claim_per_operator,
    close_with_a_reason_and_release,
    nothing_while_a_call_is_in_progress,
    the_list_filters_by_state_number_and_words,
    operators_are_refused_everywhere,
);

async fn json(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn api(app: &WebApp, s: &Session, method: Method, path: &str, body: Value) -> (u16, Value) {
    let mut req = app.with_session(method, &format!("/api/v1{path}"), s);
    if !body.is_null() {
        req = req.json(&body);
    }
    json(req.send().await.unwrap()).await
}

async fn create(app: &WebApp, s: &Session, number: &str, note: &str) -> i64 {
    let body = json!({"number": number, "category": "parent", "source": "walk_in", "note": note});
    let (status, v) = api(app, s, Method::POST, "/callbacks", body).await;
    assert_eq!(status, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// A form post carrying the session cookie and its `_csrf` field.
async fn form(app: &WebApp, s: &Session, path: &str, fields: &[(&str, &str)]) -> Response {
    let mut all = vec![("_csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    app.with_cookie(Method::POST, path, s)
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// The page at `path`, with the flash cookie a redirect set (if any).
async fn page(app: &WebApp, s: &Session, path: &str, flash: Option<&str>) -> (u16, String) {
    let mut cookie = format!("pzv_session={}", s.cookie);
    if let Some(f) = flash {
        cookie.push_str(&format!("; pzv_flash={f}"));
    }
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The flash cookie's value set by a redirect.
fn flash_of(r: &Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("pzv_flash="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn history(app: &WebApp, id: i64) -> Vec<(String, String, Value)> {
    app.store
        .callback_history(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor, e.detail))
        .collect()
}

async fn operator_id(store: &std::sync::Arc<dyn Store>, login: &str) -> i64 {
    store.operator_by_login(login).await.unwrap().unwrap().id
}

async fn made_by_hand_through_the_api_and_the_form(db: &TestDb) {
    let app = WebApp::spawn(db).await;
    app.user("chief", Role::Supervisor).await;
    app.user("ivanova", Role::Operator).await;
    let chief = app.sign_in("chief").await;
    let ivanova = app.sign_in("ivanova").await;

    let body = json!({
        "number": "8 (916) 555-12-34", "category": "staff", "source": "letter",
        "note": "Нет доступа к электронному журналу", "topic": "parent_access",
    });
    let (status, v) = api(&app, &chief, Method::POST, "/callbacks", body.clone()).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["callback_number"], "+79165551234");
    assert_eq!(v["state"], "open");
    assert_eq!(v["source"], "letter");
    assert_eq!(v["caller_category"], "staff");
    assert_eq!(v["topic"], "parent_access");
    assert_eq!(v["summary"], "Нет доступа к электронному журналу");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("создана вручную (письмо)"),
        "{v}"
    );
    // One active request per number.
    let (status, v) = api(&app, &chief, Method::POST, "/callbacks", body).await;
    assert_eq!(status, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains(&format!("№{id}")));
    // Bad input: 400 with the reason.
    for (field, value, words) in [
        ("number", "12", "номер"),
        ("source", "voicemail", "письмом"),
        ("category", "pupil", "сотрудник"),
        ("note", " ", "о чём"),
        ("topic", "weather", "тема"),
    ] {
        let mut b = json!({"number": "+79165550000", "category": "parent", "source": "walk_in",
            "note": "вопрос"});
        b[field] = json!(value);
        let (status, v) = api(&app, &chief, Method::POST, "/callbacks", b).await;
        assert_eq!(status, 400, "{field}: {v}");
        let e = v["error"].as_str().unwrap().to_lowercase();
        assert!(e.contains(words), "{field}: {e}");
    }

    // Operators see it in the list like any request, with the Russian reason.
    let (status, list) = api(&app, &ivanova, Method::GET, "/callbacks", Value::Null).await;
    assert_eq!(status, 200);
    let item = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .expect("the request is listed");
    assert!(item["reason"].as_str().unwrap().contains("создана вручную"));

    // The form: its hooks, CSRF required, then a redirect with a flash message.
    let (status, html) = page(&app, &chief, "/admin/callbacks/new", None).await;
    assert_eq!(status, 200);
    for hook in [
        r#"id="callback-new""#,
        r#"name="number""#,
        r#"name="category""#,
        r#"name="source""#,
        r#"name="note""#,
        r#"value="walk_in""#,
        r#"value="phone_note""#,
        r#"value="staff""#,
    ] {
        assert!(html.contains(hook), "{hook}");
    }
    let fields = [
        ("number", "+7 916 555-77-88"),
        ("category", "parent"),
        ("source", "phone_note"),
        ("note", "Просит перезвонить про расписание"),
        ("topic", ""),
    ];
    let no_csrf = app
        .with_cookie(Method::POST, "/admin/callbacks/new", &chief)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    assert_eq!(app.store.active_callback_count().await.unwrap(), 1);
    let r = form(&app, &chief, "/admin/callbacks/new", &fields).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let flash = flash_of(&r).expect("a flash message");
    let new_id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(to, format!("/admin/callbacks/{new_id}"));
    let (status, html) = page(&app, &chief, &to, Some(&flash)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"id="flash""#) && html.contains("создана"),
        "{html}"
    );
    assert!(
        html.contains("+7 916 555-77-88"),
        "numbers are shown in full"
    );
    assert!(html.contains("телефонограмма"));
    let r = app.store.callback_request(new_id).await.unwrap().unwrap();
    assert_eq!(
        (r.callback_number.as_str(), r.source.as_str()),
        ("+79165557788", "phone_note")
    );
    // A bad form is shown again with the reason, nothing created.
    let r = form(
        &app,
        &chief,
        "/admin/callbacks/new",
        &[
            ("number", "abc"),
            ("category", "parent"),
            ("source", "letter"),
            ("note", "x"),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("лишние символы") && html.contains(r#"id="callback-new""#));
    assert_eq!(app.store.active_callback_count().await.unwrap(), 2);

    let (action, actor, detail) = &history(&app, id).await[0];
    assert_eq!((action.as_str(), actor.as_str()), ("created", "chief"));
    assert_eq!(detail["source"], "letter");
    let audit = app.store.recent_audit(100).await.unwrap();
    let made: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "callback.create")
        .collect();
    assert_eq!(made.len(), 2);
    for e in &made {
        assert_eq!(e.actor, "chief");
        assert!(e.subject.starts_with("callback:"));
        assert!(e.detail.contains("******"), "{}", e.detail);
        for full in ["79165551234", "9165551234", "79165557788", "9165557788"] {
            assert!(!e.detail.contains(full), "{}", e.detail);
        }
    }
}

async fn reassign_keeps_one_claim_per_operator(db: &TestDb) {
    let app = WebApp::spawn(db).await;
    app.user("chief", Role::Supervisor).await;
    app.user("ivanova", Role::Operator).await;
    app.user("petrov", Role::Operator).await;
    let chief = app.sign_in("chief").await;
    let ivanova = app.sign_in("ivanova").await;
    let petrov = app.sign_in("petrov").await;
    let a_id = operator_id(&app.store, "ivanova").await;
    let b_id = operator_id(&app.store, "petrov").await;
    let r1 = create(&app, &chief, "+79160000001", "первая").await;
    let r2 = create(&app, &chief, "+79160000002", "вторая").await;

    let (s, v) = api(
        &app,
        &ivanova,
        Method::POST,
        "/callbacks/claim",
        Value::Null,
    )
    .await;
    assert_eq!((s, v["id"].as_i64()), (200, Some(r1)), "{v}");
    // Ivanova's claim goes to Petrov, with a fresh lease.
    let body = json!({"operator": "petrov", "reason": "Иванова ушла на обед"});
    let (s, v) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r1}/reassign"),
        body,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["claimed_by"].as_i64()),
        (Some("claimed"), Some(b_id))
    );
    let lease = app.clock.now() + chrono::TimeDelta::minutes(15);
    assert_eq!(v["lease_until"], json!(lease));
    // Petrov holds it; Ivanova claims the next one.
    let (_, v) = api(&app, &petrov, Method::POST, "/callbacks/claim", Value::Null).await;
    assert_eq!(
        (v["id"].as_i64(), v["already_held"].as_bool()),
        (Some(r1), Some(true))
    );
    let (_, v) = api(
        &app,
        &ivanova,
        Method::POST,
        "/callbacks/claim",
        Value::Null,
    )
    .await;
    assert_eq!(
        (v["id"].as_i64(), v["already_held"].as_bool()),
        (Some(r2), Some(false))
    );
    // Petrov already holds a request: refused.
    let body = json!({"operator": "petrov", "reason": "перераспределение"});
    let (s, v) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r2}/reassign"),
        body,
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains(&format!("№{r1}")),
        "{v}"
    );
    let body = json!({"operator": "petrov", "reason": "ещё раз"});
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r1}/reassign"),
        body,
    )
    .await;
    assert_eq!(s, 409, "already his");
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r2}/reassign"),
        json!({"operator": "nobody", "reason": "x"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        "/callbacks/9999/reassign",
        json!({"operator": "petrov", "reason": "x"}),
    )
    .await;
    assert_eq!(s, 404);
    let (s, v) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r2}/reassign"),
        json!({"operator": "petrov", "reason": "  "}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r2}/reassign"),
        json!({"operator": "petrov"}),
    )
    .await;
    assert_eq!(s, 400, "reason is required");

    // The pages: take r2 back from Ivanova, then give it to her again.
    let path = format!("/admin/callbacks/{r2}");
    let (_, html) = page(&app, &chief, &path, None).await;
    for hook in [
        r#"id="reassign""#,
        r#"id="release""#,
        r#"id="close""#,
        r#"name="operator""#,
        r#"name="reason""#,
        r#"value="petrov""#,
    ] {
        assert!(html.contains(hook), "{hook}");
    }
    let r = form(
        &app,
        &chief,
        &format!("{path}/release"),
        &[("reason", "проверка")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), path);
    let req = app.store.callback_request(r2).await.unwrap().unwrap();
    assert_eq!(req.state, "open");
    let r = form(&app, &chief, &format!("{path}/release"), &[("reason", "")]).await;
    assert_eq!(r.status(), 303);
    let flash = flash_of(&r).unwrap();
    let (_, html) = page(&app, &chief, &path, Some(&flash)).await;
    assert!(
        html.contains(r#"id="flash""#) && html.contains("не у оператора"),
        "{html}"
    );
    let r = form(
        &app,
        &chief,
        &format!("{path}/reassign"),
        &[("operator", "ivanova"), ("reason", "вернули Ивановой")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let req = app.store.callback_request(r2).await.unwrap().unwrap();
    assert_eq!(
        (req.state.as_str(), req.claimed_by),
        ("claimed", Some(a_id))
    );

    let steps: Vec<(String, String)> = history(&app, r2)
        .await
        .into_iter()
        .map(|(a, who, _)| (a, who))
        .collect();
    let want = [
        ("created", "chief"),
        ("claimed", "ivanova"),
        ("released", "chief"),
        ("reassigned", "chief"),
    ];
    assert_eq!(
        steps,
        want.map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec()
    );
    let h1 = history(&app, r1).await;
    let (_, _, d) = h1.iter().find(|(a, _, _)| a == "reassigned").unwrap();
    assert_eq!(
        (d["from_operator_id"].as_i64(), d["operator_id"].as_i64()),
        (Some(a_id), Some(b_id))
    );
    assert_eq!(d["reason"], "Иванова ушла на обед");
    let (_, html) = page(&app, &chief, &format!("/admin/callbacks/{r1}"), None).await;
    assert!(html.contains(r#"id="history""#) && html.contains("Иванова ушла на обед"));
    assert!(html.contains("передана оператору"));

    let audit = app.store.recent_audit(100).await.unwrap();
    let count = |a: &str| audit.iter().filter(|e| e.action == a).count();
    assert_eq!(count("callback.reassign"), 2);
    assert_eq!(count("callback.release"), 1);
}

async fn close_with_a_reason_and_release(db: &TestDb) {
    let app = WebApp::spawn(db).await;
    app.user("chief", Role::Supervisor).await;
    app.user("ivanova", Role::Operator).await;
    let chief = app.sign_in("chief").await;
    let ivanova = app.sign_in("ivanova").await;
    let r1 = create(&app, &chief, "+79160000001", "дубль письма").await;
    let r2 = create(&app, &chief, "+79160000002", "непонятно").await;

    let (s, v) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r1}/close"),
        json!({"reason": "Дубль письма от 12.11"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["outcome"].as_str()),
        (Some("closed"), Some("closed_by_supervisor"))
    );
    let (_, list) = api(&app, &ivanova, Method::GET, "/callbacks", Value::Null).await;
    assert!(list.as_array().unwrap().iter().all(|i| i["id"] != r1));
    let (_, closed) = api(
        &app,
        &ivanova,
        Method::GET,
        "/callbacks?state=closed",
        Value::Null,
    )
    .await;
    assert!(closed.as_array().unwrap().iter().any(|i| i["id"] == r1));
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r1}/close"),
        json!({"reason": "ещё раз"}),
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r2}/close"),
        json!({"reason": "x", "close_as": "resolved"}),
    )
    .await;
    assert_eq!(
        s, 400,
        "an operator's outcome is not a supervisor's closing"
    );
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r2}/close"),
        json!({"reason": ""}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        "/callbacks/9999/close",
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(s, 404);

    // The history shows the reason and who closed it; no more actions on the page.
    let h = history(&app, r1).await;
    let (action, actor, d) = h.last().unwrap();
    assert_eq!((action.as_str(), actor.as_str()), ("closed", "chief"));
    assert_eq!(d["reason"], "Дубль письма от 12.11");
    let (_, html) = page(&app, &chief, &format!("/admin/callbacks/{r1}"), None).await;
    assert!(html.contains("Дубль письма от 12.11") && html.contains("chief"));
    assert!(html.contains("закрыта руководителем"));
    assert!(!html.contains(r#"id="close""#) && !html.contains(r#"id="reassign""#));

    // Ivanova claims r2; the page closes it as a rejection of the regulation.
    let (s, v) = api(
        &app,
        &ivanova,
        Method::POST,
        "/callbacks/claim",
        Value::Null,
    )
    .await;
    assert_eq!((s, v["id"].as_i64()), (200, Some(r2)));
    let path = format!("/admin/callbacks/{r2}");
    let no_csrf = app
        .with_cookie(Method::POST, &format!("{path}/close"), &chief)
        .form(&[("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let r = form(
        &app,
        &chief,
        &format!("{path}/close"),
        &[
            ("close_as", "rejected_unclear"),
            ("reason", "Вопрос не понять"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let req = app.store.callback_request(r2).await.unwrap().unwrap();
    assert_eq!(
        (req.state.as_str(), req.outcome.as_deref()),
        ("closed", Some("rejected_unclear"))
    );
    // Ivanova holds nothing now: she may claim again (nothing due).
    let (s, _) = api(
        &app,
        &ivanova,
        Method::POST,
        "/callbacks/claim",
        Value::Null,
    )
    .await;
    assert_eq!(s, 204);
    let r = form(
        &app,
        &chief,
        &format!("{path}/close"),
        &[("reason", "снова")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let flash = flash_of(&r).unwrap();
    assert!(flash.starts_with("err"), "{flash}");

    // The API's release by a supervisor is audited too.
    let r3 = create(&app, &chief, "+79160000003", "третья").await;
    api(
        &app,
        &ivanova,
        Method::POST,
        "/callbacks/claim",
        Value::Null,
    )
    .await;
    let (s, v) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r3}/release"),
        Value::Null,
    )
    .await;
    assert_eq!((s, v["state"].as_str()), (200, Some("open")), "{v}");
    let audit = app.store.recent_audit(100).await.unwrap();
    let closes: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "callback.close")
        .collect();
    assert_eq!(closes.len(), 2);
    assert!(closes.iter().any(|e| e.detail.contains("rejected_unclear")));
    let release = audit
        .iter()
        .find(|e| e.action == "callback.release")
        .unwrap();
    assert_eq!(release.subject, format!("callback:{r3}"));
}

async fn nothing_while_a_call_is_in_progress(db: &TestDb) {
    let app = WebApp::spawn(db).await;
    app.user("chief", Role::Supervisor).await;
    app.user("ivanova", Role::Operator).await;
    app.user("petrov", Role::Operator).await;
    let chief = app.sign_in("chief").await;
    let ivanova = app.sign_in("ivanova").await;
    let r1 = create(&app, &chief, "+79160000001", "звонок").await;
    api(
        &app,
        &ivanova,
        Method::POST,
        "/callbacks/claim",
        Value::Null,
    )
    .await;
    let a_id = operator_id(&app.store, "ivanova").await;
    let now = app.clock.now();
    let lease = chrono::TimeDelta::minutes(15);
    let started = app
        .store
        .begin_dial(r1, a_id, "k1", now, lease)
        .await
        .unwrap();
    assert!(matches!(started, DialStart::Started(_)), "{started:?}");

    let (s, v) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r1}/close"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains("звонок"));
    let (s, _) = api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r1}/reassign"),
        json!({"operator": "petrov", "reason": "x"}),
    )
    .await;
    assert_eq!(s, 409);
    // A release is the way out of a stuck claim: allowed.
    let r = form(
        &app,
        &chief,
        &format!("/admin/callbacks/{r1}/release"),
        &[("reason", "завис")],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(flash_of(&r).unwrap().starts_with("ok"));
    let req = app.store.callback_request(r1).await.unwrap().unwrap();
    assert_eq!(req.state, "open");
}

async fn the_list_filters_by_state_number_and_words(db: &TestDb) {
    let app = WebApp::spawn(db).await;
    app.user("chief", Role::Supervisor).await;
    let chief = app.sign_in("chief").await;
    let r1 = create(&app, &chief, "+79161112233", "Не приходит ПАРОЛЬ на почту").await;
    let r2 = create(&app, &chief, "+79164445566", "Расписание на четверть").await;
    let r3 = create(&app, &chief, "+79167778899", "Оценки за четверть").await;
    api(
        &app,
        &chief,
        Method::POST,
        &format!("/callbacks/{r3}/close"),
        json!({"reason": "решено"}),
    )
    .await;
    let link = |id: i64| format!(r#"href="/admin/callbacks/{id}""#);

    let (s, html) = page(&app, &chief, "/admin/callbacks", None).await;
    assert_eq!(s, 200);
    assert!(html.contains(&link(r1)) && html.contains(&link(r2)) && html.contains(&link(r3)));
    assert!(html.contains("+7 916 111-22-33"), "numbers in full");
    assert!(html.contains("Недавно закрытые"));
    let (_, html) = page(&app, &chief, "/admin/callbacks?state=closed&q=", None).await;
    assert!(!html.contains(&link(r1)) && html.contains(&link(r3)));
    let (_, html) = page(&app, &chief, "/admin/callbacks?q=8+916+444", None).await;
    assert!(!html.contains(&link(r1)) && html.contains(&link(r2)));
    let (_, html) = page(
        &app,
        &chief,
        "/admin/callbacks?state=all&q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C",
        None,
    )
    .await;
    assert!(
        html.contains(&link(r1)) && !html.contains(&link(r2)),
        "пароль matches ПАРОЛЬ"
    );
    let (_, html) = page(
        &app,
        &chief,
        "/admin/callbacks?state=all&q=%D1%87%D0%B5%D1%82%D0%B2%D0%B5%D1%80%D1%82%D1%8C",
        None,
    )
    .await;
    assert!(html.contains(&link(r2)) && html.contains(&link(r3)) && !html.contains(&link(r1)));
    let (s, _) = page(&app, &chief, "/admin/callbacks?state=weird", None).await;
    assert_eq!(s, 400);
    let (s, _) = page(&app, &chief, "/admin/callbacks/9999", None).await;
    assert_eq!(s, 404);
}

async fn operators_are_refused_everywhere(db: &TestDb) {
    let app = WebApp::spawn(db).await;
    app.user("chief", Role::Supervisor).await;
    app.user("ivanova", Role::Operator).await;
    let chief = app.sign_in("chief").await;
    let ivanova = app.sign_in("ivanova").await;
    let id = create(&app, &chief, "+79160000001", "вопрос").await;

    for path in [
        "/admin/callbacks".to_owned(),
        "/admin/callbacks/new".into(),
        format!("/admin/callbacks/{id}"),
    ] {
        let (s, html) = page(&app, &ivanova, &path, None).await;
        assert_eq!(s, 403, "{path}");
        assert!(html.contains("только руководителям"), "{path}: {html}");
    }
    for path in [
        "/admin/callbacks/new".to_owned(),
        format!("/admin/callbacks/{id}/release"),
        format!("/admin/callbacks/{id}/reassign"),
        format!("/admin/callbacks/{id}/close"),
    ] {
        let r = form(
            &app,
            &ivanova,
            &path,
            &[
                ("reason", "x"),
                ("operator", "ivanova"),
                ("number", "+79160000009"),
                ("category", "parent"),
                ("source", "letter"),
                ("note", "x"),
            ],
        )
        .await;
        assert_eq!(r.status(), 403, "{path}");
    }
    let body =
        json!({"number": "+79160000009", "category": "parent", "source": "letter", "note": "x"});
    assert_eq!(
        api(&app, &ivanova, Method::POST, "/callbacks", body)
            .await
            .0,
        403
    );
    let (s, _) = api(
        &app,
        &ivanova,
        Method::POST,
        &format!("/callbacks/{id}/reassign"),
        json!({"operator": "ivanova", "reason": "x"}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = api(
        &app,
        &ivanova,
        Method::POST,
        &format!("/callbacks/{id}/close"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(s, 403);
    let req = app.store.callback_request(id).await.unwrap().unwrap();
    assert_eq!(req.state, "open");
    assert_eq!(app.store.active_callback_count().await.unwrap(), 1);
    // Without a session: to the sign-in page.
    let r = app
        .http
        .get(format!("{}/admin/callbacks", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));
}
