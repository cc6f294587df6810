//! `/admin/blocklist`, for supervisors and administrators: the blocklist with each rule's reason,
//! author and blocked attempts (today and ever), a form adding a rule (`form#block-add`: kind,
//! value, reason), a remove button per rule, and the per-number limits form (`form#limits`). The
//! rules and audit entries are [`crate::admin::blocklist`]'s, shared with the JSON API; every
//! change is read again by the switchboard at once (here and on the other instances).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::users::Opt;
use super::{DoneQuery, Flash, ctx, done, refused, with_status};
use crate::admin::blocklist as svc;
use crate::domain::blocklist::{CallLimits, RuleKind};
use crate::http::AppState;
use crate::http::api::blocklist::{limits_in_force, rules_with_counts};
use crate::http::pages::supervise::{msk, spelled};
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;

const PATH: &str = "/admin/blocklist";

fn kind_label(k: RuleKind) -> &'static str {
    match k {
        RuleKind::Number => "номер",
        RuleKind::Prefix => "префикс номера",
        RuleKind::Email => "адрес эл. почты",
        RuleKind::Domain => "почтовый домен",
    }
}

fn kind_options(current: &str) -> Vec<Opt> {
    RuleKind::ALL
        .iter()
        .map(|k| Opt {
            value: k.as_str(),
            label: kind_label(*k),
            selected: k.as_str() == current,
        })
        .collect()
}

struct Row {
    id: i64,
    kind_label: &'static str,
    value: String,
    reason: String,
    created_by: String,
    created_at: String,
    today: i64,
    total: i64,
}

#[derive(askama::Template)]
#[template(path = "admin/blocklist.html")]
struct BlocklistPage {
    chrome: Chrome,
    flash: Flash,
    rules: Vec<Row>,
    form: AddForm,
    kinds: Vec<Opt>,
    limits: LimitsForm,
    from_config: bool,
}

/// The add form as submitted (kept on a refusal).
#[derive(Deserialize, Default, Clone)]
pub struct AddForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    reason: String,
}

/// The limits form as submitted (kept on a refusal).
#[derive(Deserialize, Default, Clone)]
pub struct LimitsForm {
    #[serde(default)]
    voicemails_per_day: String,
    #[serde(default)]
    calls_per_hour: String,
}

async fn show(
    state: &AppState,
    user: &PageUser,
    flash: Flash,
    form: AddForm,
    limits: Option<LimitsForm>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let rules = rules_with_counts(state)
        .await?
        .into_iter()
        .map(|r| Row {
            id: r.rule.id,
            kind_label: kind_label(r.rule.kind),
            value: match r.rule.kind {
                RuleKind::Number => spelled(&r.rule.value),
                _ => r.rule.value,
            },
            reason: r.rule.reason,
            created_by: r.rule.created_by,
            created_at: msk(r.rule.created_at),
            today: r.attempts_today,
            total: r.attempts_total,
        })
        .collect();
    let current = limits_in_force(state).await?;
    let page = BlocklistPage {
        chrome: Chrome::new(user, "admin"),
        flash,
        rules,
        kinds: kind_options(&form.kind),
        form,
        limits: limits.unwrap_or_else(|| LimitsForm {
            voicemails_per_day: current.limits.voicemails_per_day.to_string(),
            calls_per_hour: current.limits.calls_per_hour.to_string(),
        }),
        from_config: current.source == "config",
    };
    Ok(with_status(status, render(&page)))
}

/// `GET /admin/blocklist`.
pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    show(
        &state,
        &user,
        q.flash(),
        AddForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/blocklist`.
pub async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let Ok(kind) = f.kind.parse::<RuleKind>() else {
        let flash =
            Flash::error("Выберите, что блокировать: номер, префикс, адрес или домен.".into());
        return show(&state, &user, flash, f, None, StatusCode::BAD_REQUEST).await;
    };
    match svc::add(ctx(&state, &user), kind, &f.value, &f.reason).await {
        Ok(rule) => {
            state.switchboard.screening().changed();
            Ok(done(PATH, "blocklist.add", &rule.id.to_string()))
        }
        Err(e) => {
            let (status, flash) = refused(e)?;
            show(&state, &user, flash, f, None, status).await
        }
    }
}

/// `POST /admin/blocklist/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let Ok(id) = id.parse::<i64>() else {
        let flash = Flash::error("Такого правила в списке блокировки нет.".into());
        return show(
            &state,
            &user,
            flash,
            AddForm::default(),
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    };
    match svc::remove(ctx(&state, &user), id).await {
        Ok(rule) => {
            state.switchboard.screening().changed();
            Ok(done(PATH, "blocklist.remove", &rule.id.to_string()))
        }
        Err(e) => {
            let (status, flash) = refused(e)?;
            show(&state, &user, flash, AddForm::default(), None, status).await
        }
    }
}

/// `POST /admin/blocklist/limits`.
pub async fn limits(
    State(state): State<AppState>,
    user: PageUser,
    Form(f): Form<LimitsForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let parse = |s: &str| s.trim().parse::<u32>().ok();
    let (Some(voicemails_per_day), Some(calls_per_hour)) =
        (parse(&f.voicemails_per_day), parse(&f.calls_per_hour))
    else {
        let flash = Flash::error("Лимит — число от 0 (без ограничения) до 1000.".into());
        return show(
            &state,
            &user,
            flash,
            AddForm::default(),
            Some(f),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let new = CallLimits {
        voicemails_per_day,
        calls_per_hour,
    };
    let before = limits_in_force(&state).await?.limits;
    match svc::set_limits(ctx(&state, &user), new, before).await {
        Ok(()) => {
            state.switchboard.screening().changed();
            Ok(done(PATH, "limits.set", ""))
        }
        Err(e) => {
            let (status, flash) = refused(e)?;
            show(&state, &user, flash, AddForm::default(), Some(f), status).await
        }
    }
}
