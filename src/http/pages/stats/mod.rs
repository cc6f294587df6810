//! The supervisors' statistics pages: `/stats` (a range's figures with their formulas, charts
//! drawn as inline SVG, the tables by hour, day and operator, the abandoned callers and the
//! callback figures, each table with its CSV link), `/stats/forecast` (the staffing forecast) and
//! `/board` (the live board, updated by server-sent events from `/board/events`). Operators get a
//! 403 page. The figures come from the same [`crate::stats::Stats`] as `/api/v1/stats/*`.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;

use super::{Chrome, PageError, render};
use crate::calendar::moscow_date;
use crate::http::api::stats::{StatsQuery, complete, stats_of};
use crate::http::session::PageUser;
use crate::http::{AppError, AppState};
use crate::stats::charts::{Series, rate_bars, stacked_bars};
use crate::stats::report::AbandonedCaller;
use crate::store::stats::GroupBy;

pub mod board;
pub mod forecast;
pub mod view;

use view::{Row, Shown, percent};

/// Routes of the statistics pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats", get(page))
        .route("/stats/forecast", get(forecast::page))
        .route("/board", get(board::page))
        .route("/board/events", get(board::events))
}

struct Later {
    a: AbandonedCaller,
    at: String,
    later: &'static str,
}

#[derive(askama::Template)]
#[template(path = "stats/summary.html")]
struct StatsPage {
    chrome: Chrome,
    from: String,
    to: String,
    query: String,
    sl_threshold: i64,
    short_abandon: i64,
    figures: Vec<Shown>,
    callbacks: Vec<Shown>,
    hourly: Vec<Row>,
    daily: Vec<Row>,
    operators: Vec<Row>,
    abandoned: Vec<Later>,
    backlog: Vec<(String, i64)>,
    categories: Vec<(String, i64, i64)>,
    topics: Vec<(String, Vec<(String, i64)>)>,
    chart_hourly: String,
    chart_sl: String,
    chart_backlog: String,
}

fn later_ru(l: Option<&str>) -> &'static str {
    match l {
        Some("got_through") => "дозвонился позже",
        Some("called_back") => "ему перезвонили",
        Some("voicemail") => "оставил сообщение позже",
        Some("on_list") => "в списке обратных звонков",
        _ => "нет",
    }
}

fn category_ru(c: &str) -> String {
    match c {
        "staff" => "сотрудник школы".into(),
        "parent" => "родитель".into(),
        _ => "не указано".into(),
    }
}

/// A topic's Russian name from the configured list (its code when it is no longer listed).
fn topic_label(state: &AppState, code: &str) -> String {
    match code {
        "none" => "без темы".into(),
        _ => state
            .config
            .callbacks
            .topics
            .iter()
            .find(|t| t.code == code)
            .map(|t| t.label.clone())
            .unwrap_or_else(|| code.to_owned()),
    }
}

/// `GET /stats?from=&to=`.
pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    q: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let range = q.range(moscow_date(state.clock.now()))?;
    let stats = stats_of(&state);
    let summary = stats.summary(&range).await.map_err(AppError::from)?;
    let hourly = complete(
        GroupBy::Hour,
        &range,
        stats
            .table(&range, GroupBy::Hour)
            .await
            .map_err(AppError::from)?,
    );
    let daily = complete(
        GroupBy::Day,
        &range,
        stats
            .table(&range, GroupBy::Day)
            .await
            .map_err(AppError::from)?,
    );
    let by_op = stats
        .table(&range, GroupBy::Operator)
        .await
        .map_err(AppError::from)?;
    let names = state.store.operators().await.map_err(AppError::from)?;
    let name = |key: &str| {
        names
            .iter()
            .find(|o| o.id.to_string() == key)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| format!("оператор {key}"))
    };
    let abandoned = stats.abandoned(&range).await.map_err(AppError::from)?;
    let hours: Vec<String> = hourly.iter().map(|f| f.key.clone()).collect();
    let chart_hourly = stacked_bars(
        "Звонки по часам",
        &hours,
        &[
            Series {
                name: "приняты",
                class: "s-answered",
                values: hourly.iter().map(|f| f.answered as f64).collect(),
            },
            Series {
                name: "сброшены",
                class: "s-abandoned",
                values: hourly.iter().map(|f| f.abandoned as f64).collect(),
            },
            Series {
                name: "голосовая почта",
                class: "s-voicemail",
                values: hourly.iter().map(|f| f.voicemail as f64).collect(),
            },
        ],
    );
    let days: Vec<String> = daily.iter().map(|f| f.key[5..].to_owned()).collect();
    let chart_sl = rate_bars(
        "Уровень обслуживания (SL) по дням",
        &days,
        &daily.iter().map(|f| f.service_level).collect::<Vec<_>>(),
        "s-answered",
    );
    let cb = &summary.callbacks;
    let backlog: Vec<(String, i64)> = cb
        .backlog
        .iter()
        .map(|b| (b.day.to_string(), b.open_requests))
        .collect();
    let chart_backlog = stacked_bars(
        "Заявки на обратный звонок к началу рабочего дня",
        &backlog
            .iter()
            .map(|(d, _)| d[5..].to_owned())
            .collect::<Vec<_>>(),
        &[Series {
            name: "открытые заявки",
            class: "s-backlog",
            values: backlog.iter().map(|(_, n)| *n as f64).collect(),
        }],
    );
    let cb_shown = vec![
        Shown {
            key: "callbacks_created",
            name: "Заявок создано",
            text: summary.callbacks_created.to_string(),
            value: summary.callbacks_created.to_string(),
            formula: "заявки, созданные в периоде",
        },
        Shown {
            key: "callbacks_done",
            name: "Выполнено",
            text: summary.callbacks_done.to_string(),
            value: summary.callbacks_done.to_string(),
            formula: "закрыты в периоде: с абонентом поговорили (решено или отказ по основанию регламента)",
        },
        Shown {
            key: "callbacks_first_attempt_rate",
            name: "С первой попытки",
            text: percent(summary.callbacks_first_attempt_rate),
            value: view::raw(summary.callbacks_first_attempt_rate),
            formula: "выполненные не более чем за один звонок / выполненные",
        },
        Shown {
            key: "callbacks_sla_met_rate",
            name: "В срок",
            text: percent(summary.callbacks_sla_met_rate),
            value: view::raw(summary.callbacks_sla_met_rate),
            formula: "выполненные не позже срока (срок = время, когда заявка стала к исполнению, + callbacks.sla_minutes рабочего времени) / выполненные",
        },
        Shown {
            key: "callbacks_oldest_open_at",
            name: "Самая давняя открытая заявка",
            text: summary
                .callbacks_oldest_open_at
                .clone()
                .map(|t| t.replace('T', " ")[..16].to_owned())
                .unwrap_or_else(|| "нет".into()),
            value: summary.callbacks_oldest_open_at.clone().unwrap_or_default(),
            formula: "когда создана самая давняя незакрытая заявка (сейчас)",
        },
    ];
    let page = StatsPage {
        chrome: Chrome::new(&user, "stats"),
        from: range.from.to_string(),
        to: range.to.to_string(),
        query: format!("from={}&to={}", range.from, range.to),
        sl_threshold: summary.sl_threshold_secs,
        short_abandon: summary.short_abandon_secs,
        figures: view::shown(&summary.calls),
        callbacks: cb_shown,
        hourly: hourly
            .iter()
            .map(|f| Row::new(format!("{}:00", f.key), f))
            .collect(),
        daily: daily.iter().map(|f| Row::new(f.key.clone(), f)).collect(),
        operators: by_op.iter().map(|f| Row::new(name(&f.key), f)).collect(),
        abandoned: abandoned
            .into_iter()
            .map(|a| Later {
                later: later_ru(a.later),
                at: a.at.replace('T', " ").chars().take(19).collect(),
                a,
            })
            .collect(),
        backlog,
        categories: cb
            .by_category
            .iter()
            .map(|(k, v)| (category_ru(k), v.created, v.done))
            .collect(),
        topics: cb
            .by_topic_weekly
            .iter()
            .map(|(week, t)| {
                let labeled = t
                    .iter()
                    .map(|(k, n)| (topic_label(&state, k), *n))
                    .collect();
                (week.to_string(), labeled)
            })
            .collect(),
        chart_hourly,
        chart_sl,
        chart_backlog,
    };
    Ok(render(&page))
}
