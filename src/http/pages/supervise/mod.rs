//! The supervisor's pages over the callback list (supervisors and administrators; operators get
//! a 403 page): `GET /admin/callbacks` (active and recently closed requests, filtered by state and
//! by number or text), `GET /admin/callbacks/{id}` (a request's full history: every step, every
//! click-to-call with its status and duration, outcomes and notes, the voicemails with a player),
//! the actions on it (`POST …/{id}/release`, `…/{id}/reassign`, `…/{id}/close`), and a request
//! made by hand (`GET`/`POST /admin/callbacks/new`). Plain HTML forms with the `_csrf` field,
//! redirect after post with a one-time flash message (a short-lived cookie). Every change goes
//! through [`crate::callbacks::Callbacks`], the same service as the JSON API's.

use axum::Router;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::calendar::MOSCOW;
use crate::http::AppState;
use crate::http::session::{cookie, set_cookie};

pub mod detail;
pub mod history;
pub mod list;

/// The routes of the supervisor's callback pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/callbacks", get(list::page))
        .route(
            "/admin/callbacks/new",
            get(list::new_form).post(list::create),
        )
        .route("/admin/callbacks/{id}", get(detail::page))
        .route("/admin/callbacks/{id}/release", post(detail::release))
        .route("/admin/callbacks/{id}/reassign", post(detail::reassign))
        .route("/admin/callbacks/{id}/close", post(detail::close))
}

/// The cookie carrying a message to the page after a redirect.
const FLASH_COOKIE: &str = "pzv_flash";

/// A message shown once at the top of a page.
#[derive(Debug, Clone)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

/// The flash message the request carries, if any.
pub fn take_flash(headers: &HeaderMap) -> Option<Flash> {
    let raw = cookie(headers, FLASH_COOKIE)?;
    let decoded: String = form_urlencoded::parse(format!("m={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    let (kind, text) = decoded.split_once(':')?;
    let text: String = text.chars().take(500).collect();
    (!text.is_empty()).then(|| Flash {
        ok: kind == "ok",
        text,
    })
}

/// `resp` with the flash cookie removed when the request had one.
pub fn with_flash_cleared(state: &AppState, flash: &Option<Flash>, mut resp: Response) -> Response {
    if flash.is_some() {
        resp.headers_mut()
            .append(header::SET_COOKIE, set_cookie(state, FLASH_COOKIE, "", 0));
    }
    resp
}

/// A 303 to `to` that shows `text` there once.
pub fn redirect_with(state: &AppState, to: &str, ok: bool, text: &str) -> Response {
    let value = format!("{}:{text}", if ok { "ok" } else { "err" });
    let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, FLASH_COOKIE, &encoded, 60),
    );
    resp
}

/// Moscow time for people: `01.12.2026 10:00`.
pub fn msk(t: DateTime<Utc>) -> String {
    t.with_timezone(&MOSCOW)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

/// A Russian number spelled for reading (`+7 916 123-45-67`); others as stored.
pub fn spelled(e164: &str) -> String {
    let d = e164.as_bytes();
    if e164.len() == 12 && e164.starts_with("+7") && d[1..].iter().all(u8::is_ascii_digit) {
        format!(
            "+7 {} {}-{}-{}",
            &e164[2..5],
            &e164[5..8],
            &e164[8..10],
            &e164[10..12]
        )
    } else {
        e164.to_owned()
    }
}

/// An option of a `<select>`.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: &str, label: &str, current: &str) -> Opt {
        Opt {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: value == current,
        }
    }
}

/// The page of request `id`.
pub fn location(id: i64) -> String {
    format!("/admin/callbacks/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn flash_round_trip_and_spelling() {
        let state_free = |text: &str| {
            let value = format!("ok:{text}");
            form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
        };
        let mut h = HeaderMap::new();
        let c = format!("pzv_flash={}", state_free("Заявка №5 закрыта; ok"));
        h.insert(header::COOKIE, HeaderValue::from_str(&c).unwrap());
        let f = take_flash(&h).unwrap();
        assert!(f.ok);
        assert_eq!(f.text, "Заявка №5 закрыта; ok");
        assert_eq!(spelled("+79161234567"), "+7 916 123-45-67");
        assert_eq!(spelled("+441234567890"), "+441234567890");
    }
}
