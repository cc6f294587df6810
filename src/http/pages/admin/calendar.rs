//! `/admin/calendar`, for supervisors and administrators: the production calendar's status as of
//! the service clock's Moscow date — the years with loaded data (status and source), this and next
//! year when they fall back to the plain rules, the next non-working weekdays and shortened days,
//! and from 1 October a warning when next year's data is missing. The same
//! [`crate::admin::calendar::overview`] as `GET /api/v1/calendar/status`.

use axum::extract::State;
use axum::response::Response;

use crate::admin::calendar::{CalendarOverview, overview, ru_date, status_ru};
use crate::calendar::moscow_date;
use crate::http::AppState;
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;

struct YearRow {
    year: i32,
    status: &'static str,
    source: String,
}

#[derive(askama::Template)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    today: String,
    years: Vec<YearRow>,
    cal: CalendarOverview,
}

/// `GET /admin/calendar`.
pub async fn page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let today = moscow_date(state.clock.now());
    let cal = overview(&state.calendar, today);
    let years = cal
        .years
        .iter()
        .map(|y| YearRow {
            year: y.year,
            status: status_ru(y.status),
            source: if y.source == crate::calendar::BUILTIN_SOURCE {
                "встроен в программу".into()
            } else {
                y.source.clone()
            },
        })
        .collect();
    Ok(render(&CalendarPage {
        chrome: Chrome::new(&user, "admin"),
        today: ru_date(today),
        years,
        cal,
    }))
}
