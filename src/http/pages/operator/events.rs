//! `GET /events`: the operator page's live updates as server-sent events. Each connection polls
//! two cheap marks every [`POLL`], and sooner when a change was signalled here or on another
//! instance ([`crate::wake::LiveWait`]) — the callback list's ([`crate::store::ListMark`]) and the
//! signed-in operator's presence — and sends `event: list` or `event: presence` when one
//! changes, after an initial `event: hello`. The marks are read from the database, so a change
//! made through any instance reaches every page. A stream ends after [`LIFETIME`]; the browser's
//! `EventSource` reconnects through the session check like any request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::time::Instant;

use super::labels;
use crate::http::AppState;
use crate::http::session::PageUser;
use crate::store::{ListMark, Operator};
use crate::wake::LiveWait;

/// How often a connection reads the marks.
pub const POLL: Duration = Duration::from_secs(1);
/// How long one stream lasts before the browser reconnects.
pub const LIFETIME: Duration = Duration::from_secs(600);

struct Watch {
    state: AppState,
    login: String,
    list: Option<ListMark>,
    presence: Option<(String, i64)>,
    pending: VecDeque<Event>,
    started: bool,
    ends: Instant,
    wait: LiveWait,
}

fn presence_event(kind: &'static str, op: Option<&Operator>) -> Event {
    let data = match op {
        Some(o) => serde_json::json!({
            "state": o.presence.as_str(),
            "label": labels::presence(o.presence),
            "since": labels::moscow(o.presence_since),
        }),
        None => serde_json::json!({ "state": null }),
    };
    Event::default().event(kind).data(data.to_string())
}

impl Watch {
    /// Reads the marks; queues an event for each that changed since the last read.
    async fn poll(&mut self) {
        let store = &self.state.store;
        match store.callback_list_mark().await {
            Ok(mark) => {
                if self.list.is_some_and(|old| old != mark) {
                    let data = serde_json::json!({ "active": mark.active }).to_string();
                    self.pending
                        .push_back(Event::default().event("list").data(data));
                }
                self.list = Some(mark);
            }
            Err(e) => tracing::warn!(error = %e, "live updates: cannot read the list mark"),
        }
        match store.operator_by_login(&self.login).await {
            Ok(op) => {
                let mark = op.as_ref().map(|o| {
                    (
                        o.presence.as_str().to_owned(),
                        o.presence_since.timestamp_millis(),
                    )
                });
                if self.started && mark != self.presence {
                    self.pending
                        .push_back(presence_event("presence", op.as_ref()));
                } else if !self.started {
                    self.pending.push_back(presence_event("hello", op.as_ref()));
                }
                self.presence = mark;
            }
            Err(e) => tracing::warn!(error = %e, "live updates: cannot read the presence"),
        }
        self.started = true;
    }
}

/// `GET /events`.
pub async fn events(
    State(state): State<AppState>,
    user: PageUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watch = Watch {
        wait: state.switchboard.wake().live(),
        state,
        login: user.user.login,
        list: None,
        presence: None,
        pending: VecDeque::new(),
        started: false,
        ends: Instant::now() + LIFETIME,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        loop {
            if let Some(ev) = w.pending.pop_front() {
                return Some((Ok(ev), w));
            }
            if Instant::now() >= w.ends {
                return None;
            }
            w.wait.next(POLL).await;
            w.poll().await;
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
