//! The blocklist and the per-number limits over the API, for supervisors and administrators:
//! `GET /api/v1/blocklist` (the rules with their blocked-attempt counts, ever and today),
//! `POST /api/v1/blocklist` (`{"kind": "number" | "prefix" | "email" | "domain", "value",
//! "reason"}`, 201), `DELETE /api/v1/blocklist/{id}` (204), `GET /api/v1/limits` and
//! `PUT /api/v1/limits` (`{"voicemails_per_day", "calls_per_hour"}`, 0 = off). The rules and the
//! audit entries are those of [`crate::admin::blocklist`], which the supervisor's page uses too.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::admin::blocklist as service;
use crate::domain::blocklist::{CallLimits, Rule, RuleKind};
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::switchboard::screen::moscow_day_start;

/// The routes, nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/blocklist", get(list).post(add))
        .route("/blocklist/{id}", delete(remove))
        .route("/limits", get(limits).put(set_limits))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRuleBody {
    kind: RuleKind,
    value: String,
    #[serde(default)]
    reason: String,
}

/// A rule with how often it blocked something.
#[derive(Serialize)]
pub struct RuleJson {
    #[serde(flatten)]
    pub rule: Rule,
    pub attempts_total: i64,
    pub attempts_today: i64,
}

#[derive(Serialize)]
pub struct RulesJson {
    pub rules: Vec<RuleJson>,
}

/// The rules with their counts (shared with the page).
pub async fn rules_with_counts(state: &AppState) -> Result<Vec<RuleJson>, AppError> {
    let today = moscow_day_start(state.clock.now());
    let counts = state.store.blocked_attempts(today).await?;
    let rules = state.store.block_rules().await?;
    Ok(rules
        .into_iter()
        .map(|rule| {
            let c = counts.iter().find(|c| c.rule_id == rule.id);
            RuleJson {
                attempts_total: c.map_or(0, |c| c.total),
                attempts_today: c.map_or(0, |c| c.recent),
                rule,
            }
        })
        .collect())
}

/// `GET /api/v1/blocklist`.
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<RulesJson>, AppError> {
    user.require_supervisor()?;
    Ok(Json(RulesJson {
        rules: rules_with_counts(&state).await?,
    }))
}

/// `POST /api/v1/blocklist`.
pub async fn add(
    State(state): State<AppState>,
    user: AuthUser,
    b: Result<Json<NewRuleBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Rule>), AppError> {
    user.require_supervisor()?;
    let Json(b) = b.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let rule = service::add(user.ctx(&state), b.kind, &b.value, &b.reason).await?;
    state.switchboard.screening().changed();
    Ok((StatusCode::CREATED, Json(rule)))
}

/// `DELETE /api/v1/blocklist/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    user.require_supervisor()?;
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::BadRequest(format!("`{id}` is not a rule id")))?;
    service::remove(user.ctx(&state), id).await?;
    state.switchboard.screening().changed();
    Ok(StatusCode::NO_CONTENT)
}

/// The limits in force and where they come from.
#[derive(Serialize)]
pub struct LimitsJson {
    #[serde(flatten)]
    pub limits: CallLimits,
    /// `config` (never set by a supervisor: `[limits]`) or `supervisor`.
    pub source: &'static str,
}

/// The limits in force (shared with the page).
pub async fn limits_in_force(state: &AppState) -> Result<LimitsJson, AppError> {
    Ok(match state.store.call_limits().await? {
        Some(limits) => LimitsJson {
            limits,
            source: "supervisor",
        },
        None => LimitsJson {
            limits: state.switchboard.screening().defaults(),
            source: "config",
        },
    })
}

/// `GET /api/v1/limits`.
pub async fn limits(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<LimitsJson>, AppError> {
    user.require_supervisor()?;
    Ok(Json(limits_in_force(&state).await?))
}

/// `PUT /api/v1/limits`.
pub async fn set_limits(
    State(state): State<AppState>,
    user: AuthUser,
    b: Result<Json<CallLimits>, JsonRejection>,
) -> Result<Json<LimitsJson>, AppError> {
    user.require_supervisor()?;
    let Json(new) = b.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let before = limits_in_force(&state).await?.limits;
    service::set_limits(user.ctx(&state), new, before).await?;
    state.switchboard.screening().changed();
    Ok(Json(limits_in_force(&state).await?))
}
