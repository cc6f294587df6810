//! Rate limits on the REST API (`/api/v1/…`): a runaway script or a stolen token must not starve
//! the operators and the call path. Two generic cell-rate limiters (the `governor` crate) apply
//! to every API request: one per client — the bearer token (by its hash) or else the signed-in
//! user of the workspace session — and one per client address (the proxy's header when
//! `web.client_ip_header` is set), which also bounds requests without any credential. A request
//! over either limit gets 429 with `Retry-After` and is counted in
//! `perezvon_rate_limited_total{scope}`; nothing else is done for it. Sign-in has its own
//! throttle on failures (see `pages::login`); webhooks are signed by the provider and never limited
//! here (a refused webhook would be a lost call).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use super::session::{client_address, peer_of};
use crate::config::web::ApiLimits;
use crate::secrets::token_hash;

/// Counter of API requests refused by a rate limit, by scope (`client` or `address`).
pub const RATE_LIMITED: &str = "perezvon_rate_limited_total";

/// How often (in requests) the limiters forget keys that have been idle long enough to be full.
const SWEEP_EVERY: u64 = 4096;

/// The API's limiters, shared by every request of one instance.
pub struct ApiLimiter {
    per_client: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<String>>,
    seen: AtomicU64,
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Some(Quota::per_minute(rate).allow_burst(burst))
}

impl ApiLimiter {
    /// Limiters for the configured limits (a rate of 0 turns that limiter off).
    pub fn new(limits: &ApiLimits) -> ApiLimiter {
        ApiLimiter {
            per_client: quota(limits.client_per_minute, limits.client_burst)
                .map(RateLimiter::keyed),
            per_address: quota(limits.address_per_minute, limits.address_burst)
                .map(RateLimiter::keyed),
            seen: AtomicU64::new(0),
        }
    }

    /// `Ok` when the request may go on, else the scope that refused it and the seconds to wait.
    pub fn check(
        &self,
        client: Option<String>,
        address: String,
    ) -> Result<(), (&'static str, u64)> {
        if self.seen.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for l in [&self.per_client, &self.per_address].into_iter().flatten() {
                l.retain_recent();
            }
        }
        let wait = |n: governor::NotUntil<_>| {
            let d = n.wait_time_from(DefaultClock::default().now());
            d.as_secs() + u64::from(d.subsec_nanos() > 0)
        };
        if let (Some(l), Some(key)) = (&self.per_client, client) {
            l.check_key(&key).map_err(|n| ("client", wait(n)))?;
        }
        if let Some(l) = &self.per_address {
            l.check_key(&address).map_err(|n| ("address", wait(n)))?;
        }
        Ok(())
    }
}

/// The client a request speaks for: its bearer token (hashed) or its session's user.
fn client_key(req: &Request) -> Option<String> {
    if let Some(v) = req.headers().get(header::AUTHORIZATION) {
        let token = v.to_str().ok()?.split_once(' ')?.1.trim();
        return Some(format!("token:{}", token_hash(token)));
    }
    req.extensions()
        .get::<Arc<crate::store::WebSession>>()
        .map(|s| format!("user:{}", s.user.id))
}

/// Middleware on the API router: refuses with 429 what is over a limit.
pub async fn limit(
    State((state, limiter)): State<(AppState, Arc<ApiLimiter>)>,
    req: Request,
    next: Next,
) -> Response {
    let client = client_key(&req);
    let address = client_address(&state, req.headers(), peer_of(req.extensions()));
    match limiter.check(client, address) {
        Ok(()) => next.run(req).await,
        Err((scope, retry_after)) => {
            metrics::counter!(RATE_LIMITED, "scope" => scope).increment(1);
            tracing::warn!(
                scope,
                path = req.uri().path(),
                "API rate limit: refused with 429"
            );
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(serde_json::json!({
                    "error": "слишком много запросов; повторите позже",
                    "retry_after_secs": retry_after.max(1),
                })),
            )
                .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
            res
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(client: u32, burst: u32, address: u32, address_burst: u32) -> ApiLimits {
        ApiLimits {
            client_per_minute: client,
            client_burst: burst,
            address_per_minute: address,
            address_burst,
        }
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_and_others_are_not_affected() {
        let l = ApiLimiter::new(&limits(60, 3, 6000, 1000));
        let a = || Some("token:a".to_owned());
        for _ in 0..3 {
            assert_eq!(l.check(a(), "10.0.0.1".into()), Ok(()));
        }
        let (scope, wait) = l.check(a(), "10.0.0.1".into()).unwrap_err();
        assert_eq!(scope, "client");
        assert_eq!(wait, 1, "one request per second comes back");
        // Another client from the same address is still served.
        assert_eq!(l.check(Some("user:7".into()), "10.0.0.1".into()), Ok(()));
    }

    #[test]
    fn the_address_limit_bounds_clients_without_credentials_and_token_rotation() {
        let l = ApiLimiter::new(&limits(600, 100, 60, 5));
        for i in 0..5 {
            assert_eq!(
                l.check(Some(format!("token:{i}")), "10.0.0.2".into()),
                Ok(())
            );
        }
        assert_eq!(
            l.check(Some("token:new".into()), "10.0.0.2".into())
                .unwrap_err()
                .0,
            "address"
        );
        assert_eq!(l.check(None, "10.0.0.3".into()), Ok(()));
    }

    #[test]
    fn a_zero_rate_turns_a_limiter_off() {
        let l = ApiLimiter::new(&limits(0, 0, 0, 0));
        for _ in 0..10_000 {
            assert_eq!(l.check(Some("token:a".into()), "10.0.0.1".into()), Ok(()));
        }
    }
}
