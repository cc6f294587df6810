//! Statistics over the API, for supervisors and administrators (operators 403, no credentials
//! 401): `GET /api/v1/stats/summary|hourly|daily|operators|abandoned|callbacks?from=YYYY-MM-DD&to=YYYY-MM-DD`
//! (Moscow dates, both included; default: today) and `?format=csv` on each, with `sep=;` (or
//! `sep=semicolon`) for Excel in a Russian locale. The tables list every hour (0–23) and every day
//! of the range, empty ones included, so charts and spreadsheets line up.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::audit::parse_date;
use crate::calendar::moscow_date;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::stats::report::{Cell, Table, figures_table, to_csv};
use crate::stats::{Figures, Range, Stats};
use crate::store::stats::GroupBy;

/// The query every statistics route takes.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct StatsQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub sep: String,
}

impl StatsQuery {
    /// The range asked for (today when a date is missing).
    pub fn range(&self, today: NaiveDate) -> Result<Range, AppError> {
        let from = parse_date(&self.from, "from")?;
        let to = parse_date(&self.to, "to")?;
        let from = from.or(to).unwrap_or(today);
        Range::new(from, to.unwrap_or(from.max(today))).map_err(AppError::BadRequest)
    }

    /// `Some(separator)` for CSV, `None` for JSON.
    pub fn csv(&self) -> Result<Option<u8>, AppError> {
        match self.format.as_str() {
            "" | "json" => Ok(None),
            "csv" => match self.sep.as_str() {
                "" | "," | "comma" => Ok(Some(b',')),
                ";" | "semicolon" => Ok(Some(b';')),
                other => Err(AppError::BadRequest(format!(
                    "`sep` must be `,` or `;`, not `{other}`"
                ))),
            },
            other => Err(AppError::BadRequest(format!(
                "`format` must be `json` or `csv`, not `{other}`"
            ))),
        }
    }
}

/// The statistics service of this state.
pub fn stats_of(state: &AppState) -> Stats {
    Stats::new(
        state.store.clone(),
        state.calendar.clone(),
        state.config.stats.clone(),
    )
}

/// Checks the caller and the query: (stats, range, csv separator).
fn open(
    state: &AppState,
    user: &AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<(Stats, Range, Option<u8>), AppError> {
    user.require_supervisor()?;
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let range = q.range(moscow_date(state.clock.now()))?;
    Ok((stats_of(state), range, q.csv()?))
}

/// A CSV download named after the table and the range.
pub fn csv_response(name: &str, range: &Range, t: &Table, sep: u8) -> Response {
    let file = format!("perezvon-{name}-{}-{}.csv", range.from, range.to);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        to_csv(t, sep),
    )
        .into_response()
}

/// Every hour 0–23 (or every day of the range), empty ones as zero rows.
pub fn complete(by: GroupBy, range: &Range, rows: Vec<Figures>) -> Vec<Figures> {
    let keys: Vec<String> = match by {
        GroupBy::Hour => (0..24).map(|h| h.to_string()).collect(),
        GroupBy::Day => range
            .from
            .iter_days()
            .take_while(|d| *d <= range.to)
            .map(|d| d.to_string())
            .collect(),
        _ => return rows,
    };
    keys.into_iter()
        .map(|k| {
            rows.iter()
                .find(|f| f.key == k)
                .cloned()
                .unwrap_or_else(|| Figures {
                    key: k,
                    ..Figures::default()
                })
        })
        .collect()
}

/// `GET /api/v1/stats/summary`.
pub async fn summary(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let (stats, range, csv) = open(&state, &user, q)?;
    let s = stats.summary(&range).await?;
    Ok(match csv {
        None => axum::Json(s).into_response(),
        Some(sep) => {
            let mut t = figures_table("range", std::slice::from_ref(&s.calls));
            t.header.extend([
                "callbacks_created",
                "callbacks_done",
                "callbacks_first_attempt_rate",
                "callbacks_sla_met_rate",
            ]);
            t.rows[0][0] = Cell::Text(format!("{}..{}", s.from, s.to));
            t.rows[0].extend([
                Cell::Int(s.callbacks_created),
                Cell::Int(s.callbacks_done),
                Cell::Num(s.callbacks_first_attempt_rate),
                Cell::Num(s.callbacks_sla_met_rate),
            ]);
            csv_response("summary", &range, &t, sep)
        }
    })
}

async fn grouped(
    state: AppState,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
    by: GroupBy,
    (name, key): (&'static str, &'static str),
) -> Result<Response, AppError> {
    let (stats, range, csv) = open(&state, &user, q)?;
    let rows = complete(by, &range, stats.table(&range, by).await?);
    Ok(match csv {
        None => axum::Json(rows).into_response(),
        Some(sep) => csv_response(name, &range, &figures_table(key, &rows), sep),
    })
}

/// `GET /api/v1/stats/hourly`: by Moscow hour of day over the range.
pub async fn hourly(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    grouped(state, user, q, GroupBy::Hour, ("hourly", "hour")).await
}

/// `GET /api/v1/stats/daily`: by Moscow date.
pub async fn daily(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    grouped(state, user, q, GroupBy::Day, ("daily", "day")).await
}

/// `GET /api/v1/stats/operators`: by the operator who answered (key: operator id).
pub async fn operators(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    grouped(
        state,
        user,
        q,
        GroupBy::Operator,
        ("operators", "operator_id"),
    )
    .await
}

/// `GET /api/v1/stats/abandoned`: the callers who hung up waiting, oldest first.
pub async fn abandoned(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let (stats, range, csv) = open(&state, &user, q)?;
    let list = stats.abandoned(&range).await?;
    Ok(match csv {
        None => axum::Json(list).into_response(),
        Some(sep) => {
            let t = Table {
                header: vec!["call_id", "at", "number", "waited_secs", "later"],
                rows: list
                    .into_iter()
                    .map(|a| {
                        vec![
                            Cell::Int(a.call_id),
                            Cell::Text(a.at),
                            Cell::Text(a.number.unwrap_or_default()),
                            Cell::Num(Some(a.waited_secs)),
                            Cell::Text(a.later.unwrap_or_default().into()),
                        ]
                    })
                    .collect(),
            };
            csv_response("abandoned", &range, &t, sep)
        }
    })
}

/// The operators planned per working hour for the forecast: `callbacks.planned_operators`, or
/// every registered operator when that is 0.
pub async fn planned_operators(state: &AppState) -> Result<u32, AppError> {
    let configured = state.config.callbacks.planned_operators;
    if configured > 0 {
        return Ok(configured);
    }
    Ok(u32::try_from(state.store.operators().await?.len()).unwrap_or(u32::MAX))
}

/// `GET /api/v1/stats/forecast`: the staffing forecast for the next working week.
pub async fn forecast(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let (stats, _, csv) = open(&state, &user, q)?;
    let today = moscow_date(state.clock.now());
    let planned = planned_operators(&state).await?;
    let f = stats
        .forecast(today, planned, state.config.routing.average_handle)
        .await?;
    Ok(match csv {
        None => axum::Json(f).into_response(),
        Some(sep) => {
            let t = Table {
                header: vec![
                    "date",
                    "hour",
                    "open_fraction",
                    "expected_arrivals",
                    "traffic_erlangs",
                    "agents_needed",
                    "planned",
                    "expected_sl_with_planned",
                ],
                rows: f
                    .rows
                    .iter()
                    .map(|r| {
                        vec![
                            Cell::Text(r.date.to_string()),
                            Cell::Int(i64::from(r.hour)),
                            Cell::Num(Some(r.open_fraction)),
                            Cell::Num(Some(r.expected_arrivals)),
                            Cell::Num(Some(r.traffic_erlangs)),
                            Cell::Int(i64::from(r.agents_needed)),
                            Cell::Num(r.planned.map(f64::from)),
                            Cell::Num(r.expected_sl_with_planned),
                        ]
                    })
                    .collect(),
            };
            let range = Range::new(f.week_start, f.week_start + chrono::TimeDelta::days(6))
                .map_err(AppError::BadRequest)?;
            csv_response("forecast", &range, &t, sep)
        }
    })
}

/// `GET /api/v1/stats/live`: the live board's snapshot.
pub async fn live(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<crate::stats::live::LiveBoard>, AppError> {
    user.require_supervisor()?;
    Ok(axum::Json(
        stats_of(&state)
            .live(state.clock.now(), state.config.routing.wrap_up)
            .await?,
    ))
}

/// `GET /api/v1/stats/callbacks`: the callback figures of the range — JSON as in the summary's
/// `callbacks`; as CSV one table of `(table, key, topic, created, done, open_requests)` rows:
/// the backlog at each working day's opening, created and done by caller category, done by
/// topic per ISO week.
pub async fn callbacks(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let (stats, range, csv) = open(&state, &user, q)?;
    let cb = stats.summary(&range).await?.callbacks;
    let Some(sep) = csv else {
        return Ok(axum::Json(cb).into_response());
    };
    let mut rows = Vec::new();
    let text = |s: &str| Cell::Text(s.to_owned());
    let none = || Cell::Text(String::new());
    for b in &cb.backlog {
        rows.push(vec![
            text("backlog"),
            text(&b.day.to_string()),
            none(),
            none(),
            none(),
            Cell::Int(b.open_requests),
        ]);
    }
    for (category, n) in &cb.by_category {
        rows.push(vec![
            text("category"),
            text(category),
            none(),
            Cell::Int(n.created),
            Cell::Int(n.done),
            none(),
        ]);
    }
    for (week, topics) in &cb.by_topic_weekly {
        for (topic, n) in topics {
            rows.push(vec![
                text("topic_week"),
                text(&week.to_string()),
                text(topic),
                none(),
                Cell::Int(*n),
                none(),
            ]);
        }
    }
    let t = Table {
        header: vec!["table", "key", "topic", "created", "done", "open_requests"],
        rows,
    };
    Ok(csv_response("callbacks", &range, &t, sep))
}
