//! The call path under interleaving: two instances (two store pools on one database, as two
//! processes would have) deliver wait ticks, dispatcher passes, provider moves, dial results,
//! status callbacks, voicemail steps and presence changes for 40 calls at once, tick after tick.
//! After every tick: no operator is on two calls, every call ringing an operator or being moved to
//! one holds that operator's reservation and no operator is reserved for nothing. At the end every
//! caller's call is over, every voicemail with a number is on the callback list, and the
//! reconciler finds nothing to repair (the steps left nothing half-done). On both backends.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::TimeDelta;
use futures::future::{BoxFuture, FutureExt, join_all};
use perezvon::clock::ManualClock;
use perezvon::domain::operator::Presence;
use perezvon::store::Call;
use perezvon::telephony::{CallStatus, DialOutcome, EventKind, QueueResult, Recording, Step};
use support::TestDb;
use support::line::{Line, caller, sid};
use support::twilio::msk;

const CALLS: usize = 40;

/// A small deterministic generator, so a failure replays.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn status_completed() -> EventKind {
    EventKind::Status {
        status: CallStatus::Completed,
        sequence: None,
        duration: None,
    }
}

/// One caller's next move, given where their call is.
fn act<'a>(
    line: &'a Line,
    c: Call,
    roll: u64,
    key: String,
    delivered: Option<i64>,
) -> BoxFuture<'a, ()> {
    let from = c.from_number.clone().unwrap_or_default();
    let id = c.provider_call_id.clone();
    async move {
        let ev = |k: &str, kind: EventKind| {
            let (id, from, k) = (id.clone(), from.clone(), format!("{key}:{k}"));
            async move { line.event(&id, &from, &k, kind).await.unwrap() }
        };
        match c.state.as_str() {
            "queued" if roll < 15 => {
                let left = EventKind::QueueLeft {
                    result: QueueResult::Hangup,
                    waited: TimeDelta::seconds(5),
                };
                ev("left", left).await;
                ev("status", status_completed()).await;
            }
            "queued" if roll < 35 => {
                // Pressed 1 to leave a message instead of waiting.
                let menu = EventKind::Digits {
                    step: Step::QueueMenu,
                    digits: Some("1".into()),
                };
                if ev("menu", menu).await == "leave" {
                    let left = EventKind::QueueLeft {
                        result: QueueResult::Left,
                        waited: TimeDelta::seconds(5),
                    };
                    ev("left", left).await;
                }
            }
            "queued" => {
                let waited = (line.clock_now() - c.queued_at.unwrap()).num_seconds();
                let tick = EventKind::QueueWait {
                    position: 1,
                    waited: TimeDelta::seconds(waited),
                };
                if ev("wait", tick).await == "leave" {
                    let left = EventKind::QueueLeft {
                        result: QueueResult::Left,
                        waited: TimeDelta::seconds(waited),
                    };
                    ev("left", left).await;
                }
            }
            "connecting" => {
                if let Some(op) = delivered {
                    ev("connect", EventKind::Connect { operator_id: op }).await;
                }
            }
            "ringing_operator" => {
                let outcome = if roll < 70 {
                    DialOutcome::Answered
                } else {
                    DialOutcome::NoAnswer
                };
                let dial = EventKind::DialEnded {
                    outcome,
                    talk: TimeDelta::seconds(60),
                };
                ev("dial", dial).await;
            }
            "connected" | "voicemail_left" | "goodbye" => {
                ev("status", status_completed()).await;
            }
            "voicemail" => {
                let number = EventKind::Digits {
                    step: Step::VoicemailNumber { attempt: 0 },
                    digits: None,
                };
                ev("number", number).await;
                let category = EventKind::Digits {
                    step: Step::VoicemailCategory { attempt: 0 },
                    digits: Some((1 + roll % 2).to_string()),
                };
                ev("category", category).await;
                if roll < 80 {
                    let rec = Recording {
                        id: format!("RE{:032x}", c.id),
                        url: format!("https://api.twilio.com/rec/{}", c.id),
                        duration: Some(TimeDelta::seconds(20)),
                    };
                    let recorded = EventKind::Recorded {
                        recording: Some(rec),
                        digits: None,
                    };
                    ev("recorded", recorded).await;
                }
                ev("status", status_completed()).await;
            }
            _ => {}
        }
    }
    .boxed()
}

trait Now {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl Now for Line {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        self.now()
    }
}

/// Prints calls with their events (what a failed invariant needs to be understood).
async fn dump(line: &Line, calls: impl Iterator<Item = &Call>) {
    for c in calls {
        eprintln!("{c:?}");
        for e in line.store.call_events(c.id).await.unwrap() {
            eprintln!(
                "   {} {} {:?} {}",
                e.event_key, e.kind, e.reply, e.received_at
            );
        }
    }
}

/// The reservation invariants, checked between ticks.
async fn check(line: &Line, calls: &[Call], tick: u32) {
    let ops = line.store.operators().await.unwrap();
    let mut held = HashSet::new();
    for c in calls
        .iter()
        .filter(|c| matches!(c.state.as_str(), "connecting" | "ringing_operator"))
    {
        let op = c
            .operator_id
            .unwrap_or_else(|| panic!("tick {tick}: {c:?} has no operator"));
        if !held.insert(op) {
            dump(line, calls.iter().filter(|c| c.operator_id == Some(op))).await;
            panic!("tick {tick}: operator {op} on two calls");
        }
        let o = ops.iter().find(|o| o.id == op).unwrap();
        if (o.presence, o.current_call_id) != (Presence::OnCall, Some(c.id)) {
            eprintln!("{o:?}");
            let related = |x: &&Call| x.operator_id == Some(op) || Some(x.id) == o.current_call_id;
            dump(line, calls.iter().filter(related)).await;
        }
        assert_eq!(
            (o.presence, o.current_call_id),
            (Presence::OnCall, Some(c.id)),
            "tick {tick}: {c:?}"
        );
    }
    for o in ops.iter().filter(|o| o.presence == Presence::OnCall) {
        assert!(
            held.contains(&o.id),
            "tick {tick}: {o:?} reserved for nothing"
        );
    }
}

async fn two_instances_keep_every_invariant(db: &TestDb) {
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0)));
    let lines = [
        Line::new(db.store.clone(), clock.clone()),
        Line::new(db.another_instance().await, clock.clone()),
    ];
    let mut ops = Vec::new();
    for login in ["anna", "boris", "vera"] {
        ops.push(lines[0].add_operator(login, Presence::Available).await);
    }
    let mut rng = Lcg(0x5eed);
    let (mut started, mut seq) = (0, 0u64);
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for tick in 0.. {
        assert!(tick < 400, "callers stranded after {tick} ticks");
        let calls = lines[0].store.recent_calls(1000).await.unwrap();
        check(&lines[0], &calls, tick).await;
        if started == CALLS && calls.iter().all(|c| c.ended_at.is_some()) {
            break;
        }
        let mut actions: Vec<BoxFuture<'_, ()>> = Vec::new();
        for _ in 0..rng.below(4) {
            if started < CALLS {
                let line = &lines[rng.below(2) as usize];
                let (id, from) = (sid(started), caller(started % 25));
                actions.push(
                    async move {
                        line.incoming(&id, &from).await;
                    }
                    .boxed(),
                );
                started += 1;
            }
        }
        let moves: Vec<(String, i64)> = lines.iter().flat_map(|l| l.control.moves()).collect();
        for c in calls.into_iter().filter(|c| c.ended_at.is_none()) {
            let line = &lines[rng.below(2) as usize];
            // The provider follows each move once, naming the operator the move named; the two
            // instances' logs are not in time order, so the name may be an earlier move's (a late
            // redirect), which must still ring the operator reserved now.
            let mine: Vec<i64> = moves
                .iter()
                .filter(|m| m.0 == c.provider_call_id)
                .map(|m| m.1)
                .collect();
            let seen = delivered.entry(c.provider_call_id.clone()).or_default();
            let next = (c.state == "connecting" && mine.len() > *seen).then(|| {
                *seen = mine.len();
                *mine.last().unwrap()
            });
            seq += 1;
            actions.push(act(line, c, rng.below(100), format!("e{seq}"), next));
        }
        for line in &lines {
            actions.push(
                async move {
                    line.dispatch().await;
                }
                .boxed(),
            );
        }
        if rng.below(10) == 0 {
            let op = ops[rng.below(3) as usize];
            let p = if rng.below(2) == 0 {
                Presence::Break
            } else {
                Presence::Available
            };
            let line = &lines[1];
            actions.push(
                async move {
                    // Refused while the operator is on a call: that is the rule under test.
                    let _ = line.store.set_presence(op, p, line.now()).await;
                    line.sb.wake_dispatcher();
                }
                .boxed(),
            );
        }
        join_all(actions).await;
        clock.advance(TimeDelta::seconds(5));
    }
    clock.advance(TimeDelta::seconds(60));
    let repairs = lines[1].sb.reconcile_once().await.unwrap();
    assert_eq!(repairs.total(), 0, "{repairs:?}");
    for o in lines[0].store.operators().await.unwrap() {
        assert_ne!(o.presence, Presence::OnCall, "{o:?}");
    }
    let vms = lines[0].store.voicemails(1000).await.unwrap();
    assert!(
        vms.len() >= 5,
        "too few voicemails to mean anything: {}",
        vms.len()
    );
    for vm in vms {
        assert!(
            vm.callback_request_id.is_some(),
            "{vm:?} not on the callback list"
        );
    }
}

on_both_backends!(two_instances_keep_every_invariant);
