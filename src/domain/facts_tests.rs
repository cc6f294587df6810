//! Hand-worked facts of typical calls, and the rule that facts merged step by step equal facts
//! rebuilt from the stored events.

use proptest::prelude::*;

use super::*;
use CallState::*;

const T0: i64 = 1_764_662_400_000; // 2025-12-02 08:00 UTC = 11:00 Moscow

fn open() -> Mark {
    Mark {
        open: Some(true),
        ..Mark::default()
    }
}

#[test]
fn answered_after_the_queue() {
    let answered = Mark {
        talk_ms: Some(120_000),
        wrap_up_ms: Some(30_000),
        ..open()
    };
    let m = open();
    let f = rebuild(
        T0,
        [
            (T0, Queued, None, &m),
            (T0 + 5_000, Connecting, Some(7), &m),
            (T0 + 6_000, RingingOperator, Some(7), &m),
            // Twilio reports the answered dial when the conversation ends.
            (T0 + 6_000 + 4_000 + 120_000, Connected, Some(7), &answered),
            (T0 + 131_000, Completed, Some(7), &Mark::default()),
        ],
    );
    assert_eq!(f.in_hours, Some(true));
    assert_eq!(f.queued_at_ms, Some(T0));
    assert_eq!(f.answer_wait_ms(), Some(10_000));
    assert_eq!(f.operator_id, Some(7));
    assert_eq!((f.talk_ms, f.wrap_up_ms), (Some(120_000), Some(30_000)));
    assert_eq!(f.abandoned_at_ms, None);
    assert_eq!(f.ended_at_ms, Some(T0 + 131_000));
    assert_eq!(f.voicemail_why(), None);
    assert_eq!(
        f.day_hour(),
        (NaiveDate::from_ymd_opt(2025, 12, 2).unwrap(), 11)
    );
}

#[test]
fn abandoned_in_the_queue_and_in_voicemail() {
    let m = open();
    let f = rebuild(
        T0,
        [(T0, Queued, None, &m), (T0 + 4_000, Abandoned, None, &m)],
    );
    assert_eq!(f.abandon_wait_ms(), Some(4_000));
    // Hanging up during the voicemail steps is not abandoning the queue.
    let f = rebuild(
        T0,
        [(T0, Voicemail, None, &m), (T0 + 9_000, Abandoned, None, &m)],
    );
    assert_eq!(f.abandoned_at_ms, None);
    assert_eq!(f.voicemail_why(), Some(VoicemailWhy::NoOperator));
    assert_eq!(f.voicemail_left_at_ms, None);
    assert_eq!(f.ended_at_ms, Some(T0 + 9_000));
}

#[test]
fn why_voicemail() {
    let closed = Mark {
        open: Some(false),
        ..Mark::default()
    };
    let m = open();
    let chose = Mark {
        chose_voicemail: true,
        ..open()
    };
    let f = rebuild(
        T0,
        [
            (T0, Voicemail, None, &closed),
            (T0 + 60_000, VoicemailLeft, None, &closed),
        ],
    );
    assert_eq!(
        (f.in_hours, f.voicemail_why()),
        (Some(false), Some(VoicemailWhy::OffHours))
    );
    assert_eq!(f.voicemail_left_at_ms, Some(T0 + 60_000));
    let f = rebuild(
        T0,
        [
            (T0, Queued, None, &m),
            (T0 + 8_000, Queued, None, &chose),
            (T0 + 9_000, Voicemail, None, &m),
        ],
    );
    assert_eq!(f.voicemail_why(), Some(VoicemailWhy::Choice));
    assert_eq!(f.chose_voicemail_at_ms, Some(T0 + 8_000));
    let f = rebuild(
        T0,
        [(T0, Queued, None, &m), (T0 + 120_000, Voicemail, None, &m)],
    );
    assert_eq!(f.voicemail_why(), Some(VoicemailWhy::Timeout));
    let f = rebuild(
        T0,
        [
            (T0, RingingOperator, Some(2), &m),
            (T0 + 20_000, Voicemail, None, &m),
        ],
    );
    assert_eq!(f.voicemail_why(), Some(VoicemailWhy::NoAnswer));
    // Queued in hours, the hotline closed while waiting: off hours wins.
    let f = rebuild(
        T0,
        [
            (T0, Queued, None, &m),
            (T0 + 20_000, Voicemail, None, &closed),
        ],
    );
    assert_eq!(f.voicemail_why(), Some(VoicemailWhy::OffHours));
}

#[test]
fn moscow_date_and_hour_around_midnight() {
    // 2025-12-02 20:59 UTC = 23:59 Moscow; 21:01 UTC = 00:01 the next Moscow day.
    let late = T0 + (12 * 60 + 59) * 60_000;
    let early = T0 + (13 * 60 + 1) * 60_000;
    assert_eq!(
        day_hour(late),
        (NaiveDate::from_ymd_opt(2025, 12, 2).unwrap(), 23)
    );
    assert_eq!(
        day_hour(early),
        (NaiveDate::from_ymd_opt(2025, 12, 3).unwrap(), 0)
    );
}

#[test]
fn marks_round_trip_and_an_empty_one_is_not_stored() {
    assert_eq!(Mark::default().to_stored(), None);
    let m = Mark {
        talk_ms: Some(5),
        chose_voicemail: true,
        ..open()
    };
    let s = m.to_stored().unwrap();
    assert_eq!(Mark::from_stored(Some(&s)), m);
    assert_eq!(Mark::from_stored(Some("not json")), Mark::default());
}

fn state() -> impl Strategy<Value = CallState> {
    prop::sample::select(CallState::ALL.to_vec())
}

fn mark() -> impl Strategy<Value = Mark> {
    (
        prop::option::of(any::<bool>()),
        prop::option::of(0i64..600_000),
        any::<bool>(),
    )
        .prop_map(|(open, talk_ms, chose_voicemail)| Mark {
            open,
            talk_ms,
            wrap_up_ms: Some(30_000),
            chose_voicemail,
        })
}

proptest! {
    /// Merging each step's delta into the stored row as it arrives (what the step's SQL does,
    /// modelled by `merge` from the first delta) equals rebuilding from all events at once, and a
    /// known fact never changes once set.
    #[test]
    fn incremental_equals_rebuild(
        steps in prop::collection::vec((0i64..100_000, state(), prop::option::of(1i64..5), mark()), 1..12)
    ) {
        let mut at = T0;
        let mut events = Vec::new();
        for (gap, s, op, m) in steps {
            at += gap;
            events.push((at, s, op, m));
        }
        let rebuilt = rebuild(T0, events.iter().map(|(a, s, o, m)| (*a, *s, *o, m)));
        let mut row: Option<Facts> = None;
        let mut before = Incoming;
        for (i, (a, s, o, m)) in events.iter().enumerate() {
            let d = delta(&StepSeen { started_at_ms: T0, at_ms: *a, before, after: *s, operator_id: *o, first: i == 0, mark: m });
            match &mut row {
                None => row = Some(d),
                Some(r) => {
                    let was = r.clone();
                    r.merge(&d);
                    if let Some(v) = was.answered_at_ms { prop_assert_eq!(r.answered_at_ms, Some(v)); }
                    if let Some(v) = was.ended_at_ms { prop_assert_eq!(r.ended_at_ms, Some(v)); }
                }
            }
            before = *s;
        }
        prop_assert_eq!(row.unwrap(), rebuilt.clone());
        if let Some(w) = rebuilt.answer_wait_ms() { prop_assert!(w >= 0); }
    }
}
