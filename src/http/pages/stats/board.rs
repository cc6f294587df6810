//! `/board`: the live board for supervisors, and `/board/events`, its server-sent events. The
//! page renders the current snapshot ([`crate::stats::live::LiveBoard`]); each events connection
//! reads a new snapshot every [`POLL`], and sooner when a change was signalled here or on another
//! instance ([`crate::wake::LiveWait`]), and sends it as `event: board` (JSON, the same shape as
//! `GET /api/v1/stats/live`) when anything but the clock changed, after an initial one; the
//! page's script redraws from it and counts the waiting and in-state times up between events.
//! Snapshots are read from the database, so changes made through any instance show.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::time::Instant;

use super::view::{Shown, shown};
use crate::http::api::stats::stats_of;
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;
use crate::http::{AppError, AppState};
use crate::stats::live::LiveBoard;

/// How often a connection reads the board.
pub const POLL: Duration = Duration::from_secs(2);
/// How long one stream lasts before the browser reconnects.
pub const LIFETIME: Duration = Duration::from_secs(600);

#[derive(askama::Template)]
#[template(path = "stats/board.html")]
struct BoardPage {
    chrome: Chrome,
    board: LiveBoard,
    today: Vec<Shown>,
    json: String,
}

/// `GET /board`.
pub async fn page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let board = stats_of(&state)
        .live(state.clock.now(), state.config.routing.wrap_up)
        .await
        .map_err(AppError::from)?;
    let today = shown(&board.today)
        .into_iter()
        .filter(|s| {
            matches!(
                s.key,
                "offered" | "answered" | "service_level" | "abandoned" | "voicemail"
            )
        })
        .collect();
    // Inside a <script> element: no "</" may close it early.
    let json = serde_json::to_string(&board)
        .unwrap_or_default()
        .replace("</", "<\\/");
    Ok(render(&BoardPage {
        chrome: Chrome::new(&user, "board"),
        board,
        today,
        json,
    }))
}

/// The snapshot without what changes every second by itself (the clock, the waited times).
fn essence(b: &LiveBoard) -> String {
    let mut b = b.clone();
    b.now.clear();
    b.oldest_due_secs = None;
    b.waiting.iter_mut().for_each(|w| w.waited_secs = 0);
    b.operators.iter_mut().for_each(|o| o.secs_in_state = 0);
    serde_json::to_string(&b).unwrap_or_default()
}

struct Watch {
    state: AppState,
    last: Option<String>,
    ends: Instant,
    wait: crate::wake::LiveWait,
}

/// `GET /board/events`.
pub async fn events(
    State(state): State<AppState>,
    user: PageUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    user.require_supervisor()?;
    let watch = Watch {
        wait: state.switchboard.wake().live(),
        state,
        last: None,
        ends: Instant::now() + LIFETIME,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        loop {
            if Instant::now() >= w.ends {
                return None;
            }
            w.wait.next(POLL).await;
            let now = w.state.clock.now();
            match stats_of(&w.state)
                .live(now, w.state.config.routing.wrap_up)
                .await
            {
                Ok(b) => {
                    let key = essence(&b);
                    if w.last.as_deref() != Some(key.as_str()) {
                        w.last = Some(key);
                        let data = serde_json::to_string(&b).unwrap_or_default();
                        return Some((Ok(Event::default().event("board").data(data)), w));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live board: cannot read the snapshot");
                    w.last.get_or_insert_with(String::new);
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
