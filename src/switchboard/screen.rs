//! The caller against the blocklist and the per-number limits, before a step. The rules and the
//! limits are read into a per-instance snapshot, read again when they change (a
//! [`Topic::Rules`] wake-up, from this instance or, on PostgreSQL, another one) and at the latest
//! after [`TTL`], so the webhook path reads them from memory. What the caller did before (calls in
//! the last hour, voicemails of the Moscow day) is one indexed query, asked only while a limit is
//! on and only for a caller ID that is a valid number (the stored call's, when the provider's
//! request does not carry it).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::calendar::MOSCOW;
use crate::domain::blocklist::{Blocklist, CallLimits, CallerRecord};
use crate::domain::phone::CallerId;
use crate::domain::routing::Screen;
use crate::store::Store;
use crate::telephony::EventKind;
use crate::wake::{Topic, Wake};

/// The longest a snapshot is used without a change being signalled (a lost wake-up's cost).
pub const TTL: Duration = Duration::from_secs(30);

/// Blocked attempts and over-limit calls, by `reason` (`blocked`, `calls_per_hour`,
/// `voicemails_per_day`).
pub const SCREENED: &str = "perezvon_calls_screened_total";

struct Snapshot {
    at: Instant,
    generation: u64,
    blocklist: Arc<Blocklist>,
    limits: CallLimits,
}

/// The blocklist and limits in force, cached per instance (see the module docs).
pub struct Screening {
    store: Arc<dyn Store>,
    wake: Arc<Wake>,
    /// The limits while no supervisor has set any (config `[limits]`).
    defaults: CallLimits,
    cache: Mutex<Option<Arc<Snapshot>>>,
}

impl Screening {
    pub fn new(store: Arc<dyn Store>, wake: Arc<Wake>, defaults: CallLimits) -> Screening {
        Screening {
            store,
            wake,
            defaults,
            cache: Mutex::new(None),
        }
    }

    /// The limits of config `[limits]`.
    pub fn defaults(&self) -> CallLimits {
        self.defaults
    }

    /// The blocklist and the limits in force (from the snapshot when it is current).
    pub async fn current(&self) -> anyhow::Result<(Arc<Blocklist>, CallLimits)> {
        let generation = self.wake.rules_generation();
        let cached = self.cache.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(s) = cached.filter(|s| s.generation == generation && s.at.elapsed() < TTL) {
            return Ok((s.blocklist.clone(), s.limits));
        }
        let rules = self.store.block_rules().await?;
        let limits = self.store.call_limits().await?.unwrap_or(self.defaults);
        let snap = Arc::new(Snapshot {
            at: Instant::now(),
            generation,
            blocklist: Arc::new(Blocklist::new(rules)),
            limits,
        });
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(snap.clone());
        Ok((snap.blocklist.clone(), limits))
    }

    /// The rules or limits changed (committed): read them again here and on the other instances.
    pub fn changed(&self) {
        self.wake.signal(Topic::Rules);
    }

    /// The caller of `call_id` before the step of `kind`.
    pub async fn screen(
        &self,
        provider: &str,
        call_id: &str,
        from: Option<&CallerId>,
        kind: &EventKind,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Screen> {
        let mut screen = Screen::default();
        if !needs_screen(kind) {
            return Ok(screen);
        }
        let (blocklist, limits) = self.current().await?;
        screen.limits = limits;
        // A provider may leave the caller ID out of a call's later requests (an action callback):
        // the call has it.
        let stored;
        let from = match from {
            Some(f) => f,
            None if limits.voicemails_per_day > 0 && !matches!(kind, EventKind::Incoming) => {
                let call = self.store.call_by_provider_id(provider, call_id).await?;
                match call.and_then(|c| c.from_number) {
                    Some(f) => {
                        stored = CallerId::new(&f);
                        &stored
                    }
                    None => return Ok(screen),
                }
            }
            None => return Ok(screen),
        };
        if matches!(kind, EventKind::Incoming)
            && let Some(rule) = blocklist.blocks_caller(from)
        {
            screen.caller.blocked_by = Some(rule.id);
            return Ok(screen);
        }
        let hourly = matches!(kind, EventKind::Incoming) && limits.calls_per_hour > 0;
        if !(hourly || limits.voicemails_per_day > 0) || from.number().is_none() {
            return Ok(screen);
        }
        let (calls, voicemails) = self
            .store
            .caller_record(
                from.raw(),
                provider,
                call_id,
                now - TimeDelta::hours(1),
                moscow_day_start(now),
            )
            .await?;
        screen.caller = CallerRecord {
            blocked_by: None,
            calls_last_hour: calls,
            voicemails_today: voicemails,
        };
        Ok(screen)
    }
}

/// Whether routing may look at the screen for this event: a new call (blocklist, calls per hour)
/// and the events after which a voicemail may start (voicemails per day).
fn needs_screen(kind: &EventKind) -> bool {
    may_start_voicemail(kind)
}

/// A new call and the events after which a voicemail may start: their step may read the caller
/// ID as a number.
pub(super) fn may_start_voicemail(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Incoming
            | EventKind::DialEnded { .. }
            | EventKind::QueueLeft { .. }
            | EventKind::Connect { .. }
    )
}

/// Midnight of the Moscow day of `now`.
pub fn moscow_day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let midnight = now
        .with_timezone(&MOSCOW)
        .date_naive()
        .and_time(chrono::NaiveTime::MIN);
    MOSCOW
        .from_local_datetime(&midnight)
        .earliest()
        .map_or(now, |t| t.with_timezone(&Utc))
}

/// The metric label for a step's screening, if it screened the caller out.
pub(super) fn reason(
    screen: &Screen,
    kind: &EventKind,
    blocked: bool,
    repeat: bool,
) -> Option<&'static str> {
    if blocked {
        Some("blocked")
    } else if !repeat {
        None
    } else if matches!(kind, EventKind::Incoming)
        && screen.limits.calls_over(screen.caller.calls_last_hour)
    {
        Some("calls_per_hour")
    } else {
        Some("voicemails_per_day")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metric_names_why_a_caller_was_turned_away() {
        let over_calls = Screen {
            limits: CallLimits {
                voicemails_per_day: 1,
                calls_per_hour: 2,
            },
            caller: CallerRecord {
                blocked_by: None,
                calls_last_hour: 2,
                voicemails_today: 1,
            },
        };
        let incoming = EventKind::Incoming;
        let left = EventKind::QueueLeft {
            result: crate::telephony::QueueResult::Left,
            waited: TimeDelta::seconds(20),
        };
        assert_eq!(reason(&over_calls, &incoming, true, false), Some("blocked"));
        assert_eq!(
            reason(&over_calls, &incoming, false, true),
            Some("calls_per_hour")
        );
        assert_eq!(
            reason(&over_calls, &left, false, true),
            Some("voicemails_per_day")
        );
        assert_eq!(reason(&over_calls, &incoming, false, false), None);
    }

    #[test]
    fn the_moscow_day_starts_at_its_midnight() {
        let t = Utc.with_ymd_and_hms(2026, 3, 10, 20, 30, 0).unwrap(); // 23:30 in Moscow
        assert_eq!(
            moscow_day_start(t),
            Utc.with_ymd_and_hms(2026, 3, 9, 21, 0, 0).unwrap()
        );
        let t = Utc.with_ymd_and_hms(2026, 3, 10, 21, 30, 0).unwrap(); // 00:30 the next day
        assert_eq!(
            moscow_day_start(t),
            Utc.with_ymd_and_hms(2026, 3, 10, 21, 0, 0).unwrap()
        );
    }
}
