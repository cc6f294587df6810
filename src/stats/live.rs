//! The live board: who is waiting now and for how long, the operators and how long each has been
//! in their state, today's figures so far, and the callbacks due today, overdue and the oldest
//! due. One snapshot per read (the page's server-sent events send a new one when it changes).

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use serde::Serialize;

use super::{Figures, Range, Stats, report::moscow_time};
use crate::calendar::hours::moscow_to_utc;
use crate::calendar::moscow_date;
use crate::domain::operator::Presence;
use crate::domain::phone::mask;
use crate::store::StoreError;
use crate::store::stats::GroupBy;

/// A snapshot of the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveBoard {
    pub now: String,
    pub open: bool,
    pub waiting: Vec<WaitingCaller>,
    pub operators: Vec<OperatorNow>,
    /// Today's calls so far (Moscow date).
    pub today: Figures,
    /// Open callback requests due by the end of today (overdue ones included).
    pub callbacks_due_today: i64,
    /// Open callback requests past their deadline.
    pub callbacks_overdue: i64,
    /// When the longest-due open request became due.
    pub oldest_due_at: Option<String>,
    pub oldest_due_secs: Option<i64>,
}

/// A caller on the line waiting for an operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitingCaller {
    pub call_id: i64,
    /// Masked: the board may hang on a wall.
    pub number: String,
    pub state: String,
    /// The state in Russian.
    pub label: &'static str,
    pub since: String,
    pub waited_secs: i64,
}

/// An operator and their state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorNow {
    pub id: i64,
    pub name: String,
    pub state: &'static str,
    /// The state in Russian.
    pub label: &'static str,
    pub since: String,
    pub secs_in_state: i64,
}

/// The Russian name of a caller's or an operator's state on the board.
pub fn state_ru(s: &str) -> &'static str {
    match s {
        "available" => "свободен",
        "on_call" => "в разговоре",
        "wrap_up" => "обработка",
        "break" => "перерыв",
        "offline" => "не в сети",
        "queued" => "в очереди",
        "ringing_operator" => "звонит оператору",
        "connecting" => "переводится к оператору",
        "incoming" => "приветствие",
        _ => "—",
    }
}

impl Stats {
    /// The board at `now`. An operator whose wrap-up (`wrap_up` long) is over is shown available
    /// from its end, as routing sees them, even before the reconciler stores it.
    pub async fn live(
        &self,
        now: DateTime<Utc>,
        wrap_up: TimeDelta,
    ) -> Result<LiveBoard, StoreError> {
        let today = moscow_date(now);
        let range = Range {
            from: today,
            to: today,
        };
        let figures = self
            .table(&range, GroupBy::Nothing)
            .await?
            .pop()
            .unwrap_or_default();
        let secs = |t: i64| (now.timestamp_millis() - t).max(0) / 1000;
        let waiting = self
            .store
            .waiting_callers()
            .await?
            .into_iter()
            .map(|(id, number, state, started)| WaitingCaller {
                call_id: id,
                number: number
                    .as_deref()
                    .map(mask)
                    .unwrap_or_else(|| "скрыт".into()),
                label: state_ru(&state),
                state,
                since: moscow_time(crate::store::from_ms(started)),
                waited_secs: secs(started),
            })
            .collect();
        let operators = self
            .store
            .operators()
            .await?
            .into_iter()
            .map(|o| {
                let (state, since) = match o.presence {
                    Presence::WrapUp if o.presence_since + wrap_up <= now => {
                        (Presence::Available, o.presence_since + wrap_up)
                    }
                    p => (p, o.presence_since),
                };
                OperatorNow {
                    id: o.id,
                    name: o.name,
                    state: state.as_str(),
                    label: state_ru(state.as_str()),
                    since: moscow_time(since),
                    secs_in_state: secs(since.timestamp_millis()),
                }
            })
            .collect();
        let end = moscow_to_utc(today + TimeDelta::days(1), NaiveTime::MIN);
        let (due, overdue, oldest) = self
            .store
            .callback_dues(end.timestamp_millis(), now.timestamp_millis())
            .await?;
        Ok(LiveBoard {
            now: moscow_time(now),
            open: self.calendar.is_open(now),
            waiting,
            operators,
            today: figures,
            callbacks_due_today: due,
            callbacks_overdue: overdue,
            oldest_due_at: oldest.map(|t| moscow_time(crate::store::from_ms(t))),
            oldest_due_secs: oldest.map(secs),
        })
    }
}
