//! Signing in to the workspace: the login form, sessions in the database (cookie flags, idle and
//! absolute lifetimes, logout, revocation when a user is disabled), CSRF on every state-changing
//! request of a session, and the throttle on failed sign-ins — on SQLite and PostgreSQL.

mod support;

use chrono::TimeDelta;
use perezvon::clock::Clock;
use perezvon::config::Config;
use perezvon::domain::user::Role;
use reqwest::Method;
use serde_json::json;
use support::TestDb;
use support::web::{PASSWORD, WebApp, session_cookie};

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

#[tokio::test]
async fn the_login_form_signs_in_and_a_wrong_password_does_not() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        let form = app
            .http
            .get(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200);
        let html = form.text().await.unwrap();
        assert!(
            html.contains(r#"name="login""#) && html.contains(r#"name="password""#),
            "{html}"
        );

        let wrong = app.post_login("ivanova", "not the password").await;
        assert_eq!(wrong.status(), 401);
        assert_eq!(
            session_cookie(&wrong),
            None,
            "no session for a wrong password"
        );
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains("Неверный логин или пароль")
        );
        let unknown = app.post_login("nobody", PASSWORD).await;
        assert_eq!(unknown.status(), 401);
        assert_eq!(session_cookie(&unknown), None);

        let ok = app.post_login("ivanova", PASSWORD).await;
        assert_eq!(ok.status(), 303);
        assert_eq!(ok.headers()["location"], "/");
        let set = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        assert!(
            !set.contains("Secure"),
            "plain http public_url: no Secure flag: {set}"
        );
        let s = app.sign_in("ivanova").await;
        let me = app
            .with_cookie(Method::GET, "/api/v1/me", &s)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let me: serde_json::Value = me.json().await.unwrap();
        assert_eq!(me["login"], "ivanova");
        // Without credentials the API answers 401.
        let anon = app
            .http
            .get(format!("{}/api/v1/me", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anon.status(), 401);
    })
    .await;
}

#[tokio::test]
async fn secure_cookies_when_the_public_url_is_https() {
    let db = TestDb::sqlite().await;
    let config = Config::load_with_env(
        None,
        [(
            "PEREZVON_PUBLIC_URL".to_owned(),
            "https://hotline.example.ru".to_owned(),
        )],
    )
    .unwrap();
    let app = WebApp::spawn_with(&db, config).await;
    app.user("ivanova", Role::Operator).await;
    let ok = app.post_login("ivanova", PASSWORD).await;
    let set = ok.headers()["set-cookie"].to_str().unwrap();
    assert!(set.contains("; Secure"), "{set}");
}

#[tokio::test]
async fn a_state_change_without_the_csrf_token_is_refused() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        let s = app.sign_in("ivanova").await;
        let path = "/api/v1/operators/ivanova/presence";
        let body = json!({ "state": "available" });
        let bare = app
            .with_cookie(Method::PUT, path, &s)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(bare.status(), 403);
        assert!(bare.text().await.unwrap().contains("CSRF"));
        let wrong = app
            .with_cookie(Method::PUT, path, &s)
            .header("x-csrf-token", "forged")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403);
        let op = app
            .store
            .operator_by_login("ivanova")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(op.presence.as_str(), "offline", "nothing changed");
        let ok = app
            .with_session(Method::PUT, path, &s)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        // A form post carries the token as `_csrf`: logout without it is refused, with it works.
        let out = app
            .with_cookie(Method::POST, "/logout", &s)
            .form(&[("x", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 403);
        let out = app
            .with_cookie(Method::POST, "/logout", &s)
            .form(&[("_csrf", s.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 303);
        assert_eq!(
            session_cookie(&out).as_deref(),
            Some(""),
            "the cookie is deleted"
        );
        let after = app
            .with_cookie(Method::GET, "/api/v1/me", &s)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 401, "a logged-out session is revoked");
    })
    .await;
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_at_their_absolute_limit_or_when_the_user_is_disabled() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        let me = |s| {
            let r = app.with_cookie(Method::GET, "/api/v1/me", s);
            async move { r.send().await.unwrap().status().as_u16() }
        };
        // Idle: 119 minutes apart is fine, then 121 minutes of silence ends it.
        let s = app.sign_in("ivanova").await;
        app.clock.advance(TimeDelta::minutes(119));
        assert_eq!(me(&s).await, 200);
        app.clock.advance(TimeDelta::minutes(121));
        assert_eq!(me(&s).await, 401);
        // Absolute: used every hour, it still ends 12 h after sign-in.
        let s = app.sign_in("ivanova").await;
        for _ in 0..11 {
            app.clock.advance(TimeDelta::hours(1));
            assert_eq!(me(&s).await, 200);
        }
        app.clock.advance(TimeDelta::minutes(61));
        assert_eq!(me(&s).await, 401);
        // Disabled: the session and a token stop at once; signing in again is refused.
        let s = app.sign_in("ivanova").await;
        let user = app.store.user_by_login("ivanova").await.unwrap().unwrap();
        let (token, hash) = perezvon::secrets::new_token();
        app.store
            .create_token(user.id, &hash, "", None, app.clock.now())
            .await
            .unwrap();
        assert_eq!(me(&s).await, 200);
        assert!(
            app.store
                .set_disabled("ivanova", true, app.clock.now())
                .await
                .unwrap()
        );
        assert_eq!(me(&s).await, 401);
        let by_token = app
            .http
            .get(format!("{}/api/v1/me", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(by_token.status(), 401);
        assert_eq!(app.post_login("ivanova", PASSWORD).await.status(), 401);
    })
    .await;
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_login_and_per_address() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        app.user("petrov", Role::Operator).await;
        for _ in 0..5 {
            assert_eq!(app.post_login("ivanova", "guess").await.status(), 401);
        }
        // The sixth try is refused even with the right password; another login still works.
        let locked = app.post_login("ivanova", PASSWORD).await;
        assert_eq!(locked.status(), 429);
        assert_eq!(session_cookie(&locked), None);
        assert_eq!(app.post_login("petrov", PASSWORD).await.status(), 303);
        // After the window, the login may try again.
        app.clock.advance(TimeDelta::minutes(16));
        assert_eq!(app.post_login("ivanova", PASSWORD).await.status(), 303);
        // Per address: 20 failures over many logins lock the address out.
        for i in 0..20 {
            app.post_login(&format!("guess{i}"), "guess").await;
        }
        assert_eq!(app.post_login("petrov", PASSWORD).await.status(), 429);
    })
    .await;
}

#[tokio::test]
async fn a_cross_site_sign_in_and_an_open_redirect_are_refused() {
    let db = TestDb::sqlite().await;
    let app = WebApp::spawn(&db).await;
    app.user("ivanova", Role::Operator).await;
    let r = app
        .http
        .post(format!("{}/login", app.base))
        .header("origin", "https://evil.example")
        .form(&[("login", "ivanova"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(session_cookie(&r), None);
    let r = app
        .http
        .post(format!("{}/login", app.base))
        .form(&[
            ("login", "ivanova"),
            ("password", PASSWORD),
            ("next", "//evil.example/x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    let r = app
        .http
        .post(format!("{}/login", app.base))
        .form(&[
            ("login", "ivanova"),
            ("password", PASSWORD),
            ("next", "/admin/users"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/admin/users");
}
