//! Callback requests, the pure rules: when a request is due and by when it must be handled (its
//! SLA deadline, in working time), where it stands in the list (its rank), what an operator's
//! outcome does to it (close, retry later, follow up at an agreed time), and the short Russian
//! explanation of its place shown to operators. Time arrives as arguments; nothing here reads a
//! clock or a database.
//!
//! The rank is a point on the *working-time axis*: the working milliseconds between a fixed epoch
//! and the deadline, minus credits for school staff and for each repeat call. Two deadlines a
//! weekend apart are therefore compared by the working time between them, and a credit of one
//! working hour moves a request due Monday 10:00 ahead of one due Friday 17:30. The store keeps
//! `deadline_work_ms` and computes the rank with [`Priority::rank_sql`], the same formula as
//! [`Priority::rank`].

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::calendar::{Calendar, MOSCOW};
use crate::domain::named_enum;

named_enum! {
    /// What an operator records after working a request.
    pub enum Outcome: "outcome" {
        /// The question was answered.
        Resolved = "resolved",
        /// The caller asked to be called again at an agreed time (inside working hours).
        FollowUp = "follow_up",
        /// Nobody answered; retried later.
        NoAnswer = "no_answer",
        /// The line was busy; retried later.
        Busy = "busy",
        /// The number does not belong to the caller.
        WrongNumber = "wrong_number",
        /// Rejected: the caller gave too little to act on (a ground of the regulation).
        RejectedInsufficientInfo = "rejected_insufficient_info",
        /// Rejected: the question was unclear (a ground of the regulation).
        RejectedUnclear = "rejected_unclear",
    }
}

/// The outcome a request is closed with when every attempt went unanswered.
pub const UNREACHABLE: &str = "unreachable";

impl Outcome {
    /// Whether the attempt went unanswered (it counts towards `max_attempts`).
    pub fn missed(self) -> bool {
        matches!(self, Outcome::NoAnswer | Outcome::Busy)
    }

    /// Whether the operator reached the caller (a topic is then required).
    pub fn reached(self) -> bool {
        !matches!(
            self,
            Outcome::NoAnswer | Outcome::Busy | Outcome::WrongNumber
        )
    }
}

/// A subject of the hotline's regulation a request is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Topic {
    /// The stored code, e.g. `timetable`.
    pub code: String,
    /// What operators see, in Russian.
    pub label: String,
}

/// The regulation's topics, the default list.
pub fn default_topics() -> Vec<Topic> {
    [
        ("timetable", "Расписание"),
        ("grades", "Успеваемость (текущие и итоговые отметки)"),
        ("attendance", "Посещаемость"),
        ("lesson_planning", "Поурочное планирование"),
        ("lessons", "Проведение уроков"),
        ("timely_entries", "Своевременность внесения данных"),
        ("parent_access", "Доступ родителей к порталу"),
        ("other", "Другое"),
    ]
    .into_iter()
    .map(|(code, label)| Topic {
        code: code.into(),
        label: label.into(),
    })
    .collect()
}

/// How priority credits are given; amounts are working time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    /// Moves school staff forward.
    pub staff_credit: TimeDelta,
    /// Moves a request forward for each repeat call, up to `repeat_cap` repeats.
    pub repeat_credit: TimeDelta,
    pub repeat_cap: u32,
}

impl Priority {
    /// The rank (lower is earlier) of a request with this deadline position, category and repeats.
    pub fn rank(&self, deadline_work_ms: i64, staff: bool, repeat_count: i64) -> i64 {
        let staff = if staff {
            self.staff_credit.num_milliseconds()
        } else {
            0
        };
        let repeats = repeat_count.clamp(0, i64::from(self.repeat_cap));
        deadline_work_ms - staff - repeats * self.repeat_credit.num_milliseconds()
    }

    /// [`Priority::rank`] as an SQL expression over `callback_requests` columns (both backends).
    /// The amounts are integers from the configuration, never user input.
    pub fn rank_sql(&self) -> String {
        let cap = self.repeat_cap;
        format!(
            "(deadline_work_ms - (case when caller_category = 'staff' then {} else 0 end) \
             - (case when repeat_count < {cap} then repeat_count else {cap} end) * {})",
            self.staff_credit.num_milliseconds(),
            self.repeat_credit.num_milliseconds()
        )
    }
}

/// The callback list's settings (`[callbacks]` in the configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackSettings {
    /// Working time from due to the SLA deadline.
    pub sla: TimeDelta,
    pub priority: Priority,
    /// How long a claim holds a request for one operator.
    pub lease: TimeDelta,
    /// Working time before a no-answer/busy request is due again.
    pub retry_delay: TimeDelta,
    /// Unanswered attempts after which a request is closed as unreachable.
    pub max_attempts: u32,
    /// Handle time assumed until enough callbacks have been measured.
    pub default_handle: TimeDelta,
    /// The share (percent) of an on-duty operator's time that goes to callbacks.
    pub share_percent: u32,
    /// Operators assumed on duty in windows nobody is logged in for yet; 0 means every
    /// registered operator.
    pub planned_operators: u32,
    pub topics: Vec<Topic>,
    /// A caller with a usable number who waited in the queue at least this long and hung up
    /// joins the list as a request without a message; zero never.
    pub abandoned_join_after: TimeDelta,
    /// How requests are numbered (`callbacks.registration_format`).
    pub registration: crate::domain::registration::RegistrationFormat,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            sla: TimeDelta::hours(8),
            priority: Priority {
                staff_credit: TimeDelta::minutes(60),
                repeat_credit: TimeDelta::minutes(30),
                repeat_cap: 3,
            },
            lease: TimeDelta::minutes(15),
            retry_delay: TimeDelta::minutes(30),
            max_attempts: 3,
            default_handle: TimeDelta::minutes(6),
            share_percent: 50,
            planned_operators: 0,
            topics: default_topics(),
            abandoned_join_after: TimeDelta::seconds(10),
            registration: crate::domain::registration::RegistrationFormat::default(),
        }
    }
}

impl CallbackSettings {
    /// The topic with this code, if configured.
    pub fn topic(&self, code: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.code == code)
    }
}

/// The origin of the working-time axis ranks are measured on.
pub fn work_epoch() -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
        .with_timezone(&Utc)
}

/// Working milliseconds from [`work_epoch`] to `t` (0 before the epoch).
pub fn work_ms(cal: &Calendar, t: DateTime<Utc>) -> i64 {
    cal.working_between(work_epoch(), t).num_milliseconds()
}

/// When a request created at `now` is due: now if the hotline is open, else the start of the next
/// working window (now, if the calendar never opens again).
pub fn due_at(cal: &Calendar, now: DateTime<Utc>) -> DateTime<Utc> {
    cal.next_open(now).unwrap_or(now)
}

/// The SLA deadline of a request due at `due`.
pub fn deadline(cal: &Calendar, due: DateTime<Utc>, sla: TimeDelta) -> DateTime<Utc> {
    cal.add_working(due, sla)
}

/// When a retry after `delay` of working time from `now` is due; always inside working hours (a
/// delay that ends exactly at closing moves to the next opening).
pub fn retry_due(cal: &Calendar, now: DateTime<Utc>, delay: TimeDelta) -> DateTime<Utc> {
    let t = cal.add_working(now, delay);
    cal.next_open(t).unwrap_or(t)
}

/// What an outcome does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The request is closed with this stored outcome; `missed` when the last attempt went
    /// unanswered.
    Close { outcome: String, missed: bool },
    /// The request goes back to the list, due at `due`; a follow-up also moves the deadline.
    Reopen {
        due: DateTime<Utc>,
        deadline: Option<DateTime<Utc>>,
        missed: bool,
    },
}

/// Why an outcome was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("follow_up needs `follow_up_at`, an instant inside working hours")]
    FollowUpMissing,
    #[error("follow_up_at must be in the future")]
    FollowUpPast,
    #[error("follow_up_at is outside working hours; the next window opens at {next_open}")]
    FollowUpClosed { next_open: String },
}

/// The effect of `outcome` on a request with `misses` unanswered attempts so far.
pub fn next_after(
    outcome: Outcome,
    misses: u32,
    follow_up_at: Option<DateTime<Utc>>,
    cal: &Calendar,
    now: DateTime<Utc>,
    s: &CallbackSettings,
) -> Result<Next, OutcomeError> {
    match outcome {
        Outcome::FollowUp => {
            let at = follow_up_at.ok_or(OutcomeError::FollowUpMissing)?;
            if at <= now {
                return Err(OutcomeError::FollowUpPast);
            }
            if !cal.is_open(at) {
                let next_open = cal
                    .next_open(at)
                    .map(|t| t.with_timezone(&MOSCOW).to_rfc3339())
                    .unwrap_or_else(|| "never".into());
                return Err(OutcomeError::FollowUpClosed { next_open });
            }
            Ok(Next::Reopen {
                due: at,
                deadline: Some(at),
                missed: false,
            })
        }
        Outcome::NoAnswer | Outcome::Busy => {
            if misses + 1 >= s.max_attempts {
                Ok(Next::Close {
                    outcome: UNREACHABLE.into(),
                    missed: true,
                })
            } else {
                Ok(Next::Reopen {
                    due: retry_due(cal, now, s.retry_delay),
                    deadline: None,
                    missed: true,
                })
            }
        }
        other => Ok(Next::Close {
            outcome: other.as_str().into(),
            missed: false,
        }),
    }
}

mod reason;
mod schedule;
mod slots;
pub mod supervise;
#[cfg(test)]
mod tests;

pub use reason::{ReasonInput, reason};
pub use schedule::{Eta, Staffing, eta_for_position, eta_range, etas, horizon_slots};
pub use slots::{MAX_FOLLOW_UP_DAYS, follow_up_slots};
pub use supervise::{CloseAs, Source};
