//! `/stats/forecast`: the staffing forecast for the next working week as a table and a chart —
//! per working hour, the calls expected, the Erlang load, the operators needed for the target
//! and the operators planned with the service level they would give. The same
//! [`crate::stats::Stats::forecast`] as `GET /api/v1/stats/forecast`.

use axum::extract::State;
use axum::response::Response;

use super::view::percent;
use crate::calendar::moscow_date;
use crate::http::api::stats::{planned_operators, stats_of};
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;
use crate::http::{AppError, AppState};
use crate::stats::charts::{Series, bars_and_line};

struct Line {
    date: String,
    hour: u32,
    expected: String,
    erlangs: String,
    needed: u32,
    planned: String,
    sl: String,
    short: bool,
}

#[derive(askama::Template)]
#[template(path = "stats/forecast.html")]
struct ForecastPage {
    chrome: Chrome,
    week_start: String,
    weeks: u32,
    aht: String,
    aht_measured: bool,
    target: String,
    threshold: i64,
    lines: Vec<Line>,
    chart: String,
}

/// `GET /stats/forecast`.
pub async fn page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let stats = stats_of(&state);
    let planned = planned_operators(&state).await?;
    let f = stats
        .forecast(
            moscow_date(state.clock.now()),
            planned,
            state.config.routing.average_handle,
        )
        .await
        .map_err(AppError::from)?;
    let fmt = |v: f64| format!("{v:.1}").replace('.', ",");
    let lines: Vec<Line> = f
        .rows
        .iter()
        .map(|r| Line {
            date: r.date.format("%d.%m").to_string(),
            hour: r.hour,
            expected: fmt(r.expected_arrivals),
            erlangs: fmt(r.traffic_erlangs),
            needed: r.agents_needed,
            planned: r
                .planned
                .map(|p| p.to_string())
                .unwrap_or_else(|| "—".into()),
            sl: percent(r.expected_sl_with_planned),
            short: r.open_fraction < 1.0,
        })
        .collect();
    let labels: Vec<String> = lines
        .iter()
        .map(|l| format!("{} {}", l.date, l.hour))
        .collect();
    let planned_line = Series {
        name: "запланировано операторов",
        class: "s-planned",
        values: f
            .rows
            .iter()
            .map(|r| f64::from(r.planned.unwrap_or(0)))
            .collect(),
    };
    let chart = bars_and_line(
        "Нужно операторов по часам и запланировано",
        &labels,
        &[Series {
            name: "нужно операторов",
            class: "s-answered",
            values: f.rows.iter().map(|r| f64::from(r.agents_needed)).collect(),
        }],
        f.rows
            .iter()
            .any(|r| r.planned.is_some())
            .then_some(&planned_line),
    );
    Ok(render(&ForecastPage {
        chrome: Chrome::new(&user, "forecast"),
        week_start: f.week_start.format("%d.%m.%Y").to_string(),
        weeks: f.weeks,
        aht: format!("{:.0}", f.aht_secs),
        aht_measured: f.aht_measured,
        target: format!("{:.0}", state.config.stats.forecast_target * 100.0),
        threshold: state.config.stats.sl_threshold.num_seconds(),
        lines,
        chart,
    }))
}
