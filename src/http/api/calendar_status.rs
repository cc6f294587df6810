//! `GET /api/v1/calendar/status`: the production calendar's state for supervisors and
//! administrators (unlike the other calendar routes it needs a signed-in supervisor): years with
//! data, years on the plain rules, the next non-working weekdays and shortened days, and warnings
//! (from 1 October, next year's missing data). The same [`crate::admin::calendar::overview`] the
//! administration pages show, as of the service clock's Moscow date.

use axum::Json;
use axum::extract::State;

use crate::admin::calendar::{CalendarOverview, overview};
use crate::calendar::moscow_date;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};

/// `GET /api/v1/calendar/status`.
pub async fn status(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<CalendarOverview>, AppError> {
    user.require_supervisor()?;
    Ok(Json(overview(
        &state.calendar,
        moscow_date(state.clock.now()),
    )))
}
