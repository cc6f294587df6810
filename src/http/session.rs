//! Cookie sessions of the workspace and their CSRF protection. A middleware in front of the pages
//! and the API finds the session named by the `pzv_session` cookie (unless the request carries a
//! bearer token, which needs no CSRF check because browsers never send it on their own), and
//! refuses every state-changing request of that session whose CSRF token — the `X-CSRF-Token`
//! header or, for an HTML form, the `_csrf` field — does not match the session's. Handlers then
//! take [`crate::http::auth::AuthUser`] (API: 401 without a user) or [`PageUser`] (pages: a
//! redirect to `/login`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::AppError;
use crate::store::{User, WebSession};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "pzv_session";
/// The header a script sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field an HTML form sends the CSRF token in.
pub const CSRF_FIELD: &str = "_csrf";

/// A random URL-safe secret of 256 bits (session cookie values, CSRF tokens).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, path `/`, `Secure` when configured;
/// `max_age_secs` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let v =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The client's address: the configured proxy header, else the TCP peer.
pub fn client_address(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if let Some(h) = &state.config.web.client_ip_header
        && let Some(v) = headers.get(h.as_str()).and_then(|v| v.to_str().ok())
    {
        let first = v.split(',').next().unwrap_or("").trim();
        if !first.is_empty() {
            return first.chars().take(64).collect();
        }
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_default()
}

/// The TCP peer of a request, when the server recorded it.
pub fn peer_of(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// True when `given` is the session's CSRF token (compared in constant time).
pub fn csrf_matches(session: &WebSession, given: &str) -> bool {
    let want = session.csrf_token.as_bytes();
    want.len() == given.len() && bool::from(want.ct_eq(given.as_bytes()))
}

/// The middleware: resolves the session cookie and enforces CSRF on state-changing requests.
pub async fn resolve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let bearer = req.headers().contains_key(header::AUTHORIZATION);
    let Some(value) = cookie(req.headers(), SESSION_COOKIE).filter(|_| !bearer) else {
        return next.run(req).await;
    };
    let hash = crate::secrets::token_hash(value);
    let now = state.clock.now();
    let session = match state
        .store
        .session(&hash, now, state.config.web.session_idle)
        .await
    {
        Ok(Some(s)) => Arc::new(s),
        Ok(None) => return next.run(req).await,
        Err(e) => return AppError::from(e).into_response(),
    };
    let req = if req.method().is_safe() {
        req
    } else {
        match checked(&state, &session, req).await {
            Ok(req) => req,
            Err(resp) => return *resp,
        }
    };
    let mut req = req;
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// Passes `req` on when it carries the session's CSRF token, else answers 403.
async fn checked(
    state: &AppState,
    session: &WebSession,
    req: Request,
) -> Result<Request, Box<Response>> {
    let refuse = || {
        Box::new(
            AppError::Forbidden(
                "the CSRF token is missing or wrong; reload the page and try again".into(),
            )
            .into_response(),
        )
    };
    if let Some(v) = req.headers().get(CSRF_HEADER) {
        return match v.to_str() {
            Ok(v) if csrf_matches(session, v) => Ok(req),
            _ => Err(refuse()),
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refuse());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| Box::new(StatusCode::PAYLOAD_TOO_LARGE.into_response()))?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    match token {
        Some(t) if csrf_matches(session, &t) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(refuse()),
    }
}

/// The signed-in user of a page, with the CSRF token its forms carry; without a session the
/// request is redirected to `/login`.
#[derive(Debug, Clone)]
pub struct PageUser {
    pub user: User,
    pub csrf: String,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<PageUser, Response> {
        match parts.extensions.get::<Arc<WebSession>>() {
            Some(s) => Ok(PageUser {
                user: s.user.clone(),
                csrf: s.csrf_token.clone(),
            }),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let to = format!(
                    "/login?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

impl PageUser {
    /// A 403 page unless the user is a supervisor or an administrator.
    pub fn require_supervisor(&self) -> Result<(), AppError> {
        if self.user.role.is_supervisor() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Эта страница доступна только руководителям".into(),
            ))
        }
    }

    /// A 403 page unless the user is an administrator.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.user.role == crate::domain::user::Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Эта страница доступна только администраторам".into(),
            ))
        }
    }
}
