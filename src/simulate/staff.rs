//! The simulated staff: operators `sim-op-1..N` (reached at `sip:sim-op-K@sim.invalid`) and a
//! supervisor `sim-supervisor`, each with a fresh API token, created in the instance's store
//! (existing ones are reused and their older tokens revoked).
//!
//! Operators go available, on break and back through the REST API with their own tokens, as people
//! would (`PUT /api/v1/operators/{login}/presence`); on-call and wrap-up are the server's doing.
//! [`breaks`] is the background task that, every few (scaled) seconds, may send one operator on a
//! short break, and brings back operators who have been on break long enough, including those the
//! server paused after missed calls. The supervisor's token reads the operators and the calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::domain::operator::{ContactKind, Presence};
use crate::domain::user::Role;
use crate::store::{NewAuditEntry, NewOperator, NewUser, Store};

/// Logins of the simulated operators start with this.
pub const OPERATOR_PREFIX: &str = "sim-op-";
/// The simulated supervisor's login.
pub const SUPERVISOR: &str = "sim-supervisor";

/// Logins and tokens of the simulated staff (tokens are never printed).
pub struct Staff {
    pub operators: Vec<(String, String)>,
    pub supervisor: String,
}

/// Creates (or reuses) the staff in `store` and gives everyone a new token.
pub async fn enlist(
    store: &dyn Store,
    operators: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<Staff> {
    let mut ops = Vec::with_capacity(operators);
    for k in 1..=operators {
        let login = format!("{OPERATOR_PREFIX}{k}");
        let user = user(store, &login, Role::Operator, now).await?;
        if store.operator_by_login(&login).await?.is_none() {
            let new = NewOperator {
                user_id: user,
                name: format!("Simulated operator {k}"),
                contact_kind: ContactKind::Sip,
                contact: format!("sip:{login}@sim.invalid"),
            };
            store.create_operator(&new, now).await?;
        }
        ops.push((login.clone(), token(store, &login, user, now).await?));
    }
    let sup = user(store, SUPERVISOR, Role::Supervisor, now).await?;
    Ok(Staff {
        operators: ops,
        supervisor: token(store, SUPERVISOR, sup, now).await?,
    })
}

async fn user(
    store: &dyn Store,
    login: &str,
    role: Role,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    if let Some(u) = store.user_by_login(login).await? {
        if u.disabled || u.role != role {
            bail!(
                "user `{login}` exists but is disabled or not a {role}; remove it or use another database"
            );
        }
        return Ok(u.id);
    }
    let new = NewUser {
        login: login.to_owned(),
        display_name: login.to_owned(),
        role,
        // Not a password hash: nobody can sign in with a password, only with the token.
        password_hash: "!simulated".into(),
    };
    let u = store.create_user(&new, now).await?;
    audit(store, "user.create", login, now).await?;
    Ok(u.id)
}

async fn token(
    store: &dyn Store,
    login: &str,
    user: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    store.revoke_tokens(login, now).await?;
    let (token, hash) = crate::secrets::new_token();
    store
        .create_token(user, &hash, "perezvon simulate", None, now)
        .await?;
    audit(store, "token.create", login, now).await?;
    Ok(token)
}

async fn audit(
    store: &dyn Store,
    action: &str,
    login: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let entry = NewAuditEntry {
        actor: "simulate".into(),
        action: action.into(),
        subject: format!("user:{login}"),
        detail: serde_json::json!({ "detail": "perezvon simulate" }).to_string(),
        request_id: None,
    };
    store.audit(&entry, now).await?;
    Ok(())
}

/// Sets an operator's presence through the API with `token`.
pub async fn set_presence(
    http: &reqwest::Client,
    target: &str,
    login: &str,
    token: &str,
    presence: Presence,
) -> anyhow::Result<()> {
    let r = http
        .put(format!("{target}/api/v1/operators/{login}/presence"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "state": presence }))
        .send()
        .await
        .with_context(|| format!("cannot set `{login}` {presence}"))?;
    if !r.status().is_success() {
        bail!("setting `{login}` {presence}: HTTP {}", r.status());
    }
    Ok(())
}

#[derive(Deserialize)]
struct OperatorRow {
    login: String,
    presence: Presence,
}

/// Breaks taken and ended by [`breaks`].
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct BreakStats {
    pub breaks: usize,
    pub returns: usize,
    pub failures: usize,
}

/// Sends operators on breaks and back until `stop` turns true. `scale` is the time scale: a tick
/// every 50 Twilio seconds, breaks of 100.
pub async fn breaks(
    http: reqwest::Client,
    target: String,
    staff: Arc<Staff>,
    scale: f64,
    seed: u64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> BreakStats {
    let mut rng = StdRng::seed_from_u64(seed);
    let tick = Duration::from_secs_f64(50.0 * scale);
    let length = Duration::from_secs_f64(100.0 * scale);
    let tokens: HashMap<&str, &str> = staff
        .operators
        .iter()
        .map(|(l, t)| (l.as_str(), t.as_str()))
        .collect();
    let mut on_break: HashMap<String, Instant> = HashMap::new();
    let mut stats = BreakStats::default();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return stats,
            _ = tokio::time::sleep(tick) => {}
        }
        let Ok(ops) = operators(&http, &target, &staff.supervisor).await else {
            stats.failures += 1;
            continue;
        };
        on_break.retain(|login, _| {
            ops.iter()
                .any(|o| &o.login == login && o.presence == Presence::Break)
        });
        let mut available = Vec::new();
        for op in &ops {
            let Some(token) = tokens.get(op.login.as_str()) else {
                continue;
            };
            match op.presence {
                Presence::Break => {
                    let since = *on_break
                        .entry(op.login.clone())
                        .or_insert_with(Instant::now);
                    if since.elapsed() >= length {
                        match set_presence(&http, &target, &op.login, token, Presence::Available)
                            .await
                        {
                            Ok(()) => stats.returns += 1,
                            Err(_) => stats.failures += 1,
                        }
                    }
                }
                Presence::Available => available.push((op.login.as_str(), *token)),
                _ => {}
            }
        }
        // One operator on break at a time, and not always.
        if on_break.is_empty()
            && rng.gen_bool(0.5)
            && let Some((login, token)) = available.choose(&mut rng)
        {
            match set_presence(&http, &target, login, token, Presence::Break).await {
                Ok(()) => {
                    stats.breaks += 1;
                    on_break.insert((*login).to_owned(), Instant::now());
                }
                Err(_) => stats.failures += 1,
            }
        }
    }
}

/// The simulated operators' presence now, counted by presence.
pub async fn presence_counts(
    http: &reqwest::Client,
    target: &str,
    staff: &Staff,
) -> anyhow::Result<std::collections::BTreeMap<String, usize>> {
    let mut out = std::collections::BTreeMap::new();
    for op in operators(http, target, &staff.supervisor).await? {
        if staff.operators.iter().any(|(l, _)| *l == op.login) {
            *out.entry(op.presence.to_string()).or_default() += 1;
        }
    }
    Ok(out)
}

async fn operators(
    http: &reqwest::Client,
    target: &str,
    token: &str,
) -> anyhow::Result<Vec<OperatorRow>> {
    let r = http
        .get(format!("{target}/api/v1/operators"))
        .bearer_auth(token)
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("listing operators: HTTP {}", r.status());
    }
    Ok(r.json().await?)
}
