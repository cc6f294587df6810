//! The workspace served on port 0 for tests: a manual clock, a user with a password, signing in
//! through `POST /login` like a browser, and requests carrying the session cookie (and its CSRF
//! token, read from the page's `<meta name="csrf-token">` or the database).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::config::Config;
use perezvon::domain::operator::ContactKind;
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::store::{NewOperator, NewUser, Store, User};
use perezvon::switchboard::Switchboard;

use super::TestDb;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

pub struct WebApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub config: Arc<Config>,
    /// A client that follows no redirects and keeps no cookies.
    pub http: reqwest::Client,
}

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl WebApp {
    /// Serves the app with `config` on a fresh port; the clock starts on a working Tuesday at
    /// 10:00 Moscow time.
    pub async fn spawn_with(db: &TestDb, config: Config) -> WebApp {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap(),
        ));
        let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
        let switchboard = Arc::new(
            Switchboard::new(
                db.store.clone(),
                calendar.clone(),
                clock.clone(),
                config.routing.clone(),
            )
            .with_limits(config.limits),
        );
        let config = Arc::new(config);
        let state = AppState {
            config: config.clone(),
            store: db.store.clone(),
            calendar,
            clock: clock.clone(),
            switchboard,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(perezvon::http::serve(
            listener,
            state,
            std::future::pending(),
        ));
        WebApp {
            base,
            store: db.store.clone(),
            clock,
            config,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub async fn spawn(db: &TestDb) -> WebApp {
        WebApp::spawn_with(db, Config::default()).await
    }

    /// Creates a user with [`PASSWORD`] (and an operator row reached by phone for operators).
    pub async fn user(&self, login: &str, role: Role) -> User {
        let now = self.clock.now();
        let hash = perezvon::secrets::hash_password(PASSWORD).unwrap();
        let u = NewUser {
            login: login.into(),
            display_name: format!("Пользователь {login}"),
            role,
            password_hash: hash,
        };
        let user = self.store.create_user(&u, now).await.unwrap();
        if role == Role::Operator {
            let op = NewOperator {
                user_id: user.id,
                name: format!("Оператор {login}"),
                contact_kind: ContactKind::Phone,
                contact: "+79161234567".into(),
            };
            self.store.create_operator(&op, now).await.unwrap();
        }
        user
    }

    /// `POST /login` as a browser form.
    pub async fn post_login(&self, login: &str, password: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/login", self.base))
            .form(&[("login", login), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the session; panics unless sign-in succeeds.
    pub async fn sign_in(&self, login: &str) -> Session {
        let r = self.post_login(login, PASSWORD).await;
        assert_eq!(r.status().as_u16(), 303, "sign-in of {login} failed");
        let cookie = session_cookie(&r).expect("a session cookie");
        let hash = perezvon::secrets::token_hash(&cookie);
        let s = self
            .store
            .session(&hash, self.clock.now(), self.config.web.session_idle)
            .await
            .unwrap()
            .expect("the session is stored");
        Session {
            cookie,
            csrf: s.csrf_token,
        }
    }

    /// A request carrying the session's cookie (and no CSRF token).
    pub fn with_cookie(
        &self,
        method: reqwest::Method,
        path: &str,
        s: &Session,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", format!("pzv_session={}", s.cookie))
    }

    /// A request carrying the session's cookie and its CSRF header.
    pub fn with_session(
        &self,
        method: reqwest::Method,
        path: &str,
        s: &Session,
    ) -> reqwest::RequestBuilder {
        self.with_cookie(method, path, s)
            .header("x-csrf-token", &s.csrf)
    }
}

impl WebApp {
    /// `POST path` as the session's HTML form: `fields` plus the `_csrf` field.
    pub async fn post_form(
        &self,
        path: &str,
        s: &Session,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all = vec![("_csrf", s.csrf.as_str())];
        all.extend_from_slice(fields);
        self.with_cookie(reqwest::Method::POST, path, s)
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` with the session; the status and the body.
    pub async fn get_page(&self, path: &str, s: &Session) -> (u16, String) {
        let r = self
            .with_cookie(reqwest::Method::GET, path, s)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// The value of the `pzv_session` cookie a response sets, if any (empty when it deletes it).
pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("pzv_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

impl WebApp {
    /// A call from `number` that left a voicemail, attached to the number's callback request
    /// (created due now); returns the request id.
    pub async fn voicemail_request(&self, sid: &str, number: &str, category: Option<&str>) -> i64 {
        voicemail_request(&self.store, self.clock.now(), sid, number, category).await
    }
}

/// [`WebApp::voicemail_request`] through any store (another instance's, say).
pub async fn voicemail_request(
    store: &Arc<dyn Store>,
    now: chrono::DateTime<Utc>,
    sid: &str,
    number: &str,
    category: Option<&str>,
) -> i64 {
    let call = store
        .ensure_call("twilio", sid, Some(number), Some("+74950000000"), now)
        .await
        .unwrap();
    store
        .start_voicemail(call.id, Some(number), now)
        .await
        .unwrap();
    store
        .set_voicemail_number(call.id, number, true)
        .await
        .unwrap();
    if let Some(c) = category {
        store.set_voicemail_category(call.id, c).await.unwrap();
    }
    let priority = perezvon::domain::callback::CallbackSettings::default().priority;
    let a = perezvon::store::AttachVoicemail {
        call_id: call.id,
        number,
        category,
        now,
        due: now,
        deadline: now + chrono::TimeDelta::hours(8),
        deadline_work_ms: 1_000,
        priority: &priority,
        source: "voicemail",
        registration: &perezvon::domain::registration::RegistrationFormat::default(),
    };
    store
        .attach_voicemail(&a)
        .await
        .unwrap()
        .unwrap()
        .request_id()
}
