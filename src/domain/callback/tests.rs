//! The callback rules on the real calendar: due times, deadlines, retries, outcomes, rank,
//! the operators' explanation and the schedule; property tests for the time arithmetic.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::calendar::{Calendar, HotlineHours, MOSCOW};

fn cal() -> Calendar {
    Calendar::builtin(HotlineHours::default())
}

fn msk(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn friday_evening_is_due_monday_morning() {
    let c = cal();
    // Friday 27 November 2026, 19:40.
    let due = due_at(&c, msk(2026, 11, 27, 19, 40));
    assert_eq!(due, msk(2026, 11, 30, 9, 0));
    assert_eq!(
        deadline(&c, due, TimeDelta::hours(8)),
        msk(2026, 11, 30, 17, 0)
    );
}

#[test]
fn holiday_monday_is_due_tuesday() {
    let c = cal();
    // Monday 23 February 2026 is a holiday (Defender of the Fatherland Day).
    let due = due_at(&c, msk(2026, 2, 20, 18, 30));
    assert_eq!(due, msk(2026, 2, 24, 9, 0));
    // During hours a request is due at once; the deadline crosses the holiday weekend.
    let now = msk(2026, 2, 20, 14, 0);
    assert_eq!(due_at(&c, now), now);
    assert_eq!(
        deadline(&c, now, TimeDelta::hours(8)),
        msk(2026, 2, 24, 13, 0)
    );
}

#[test]
fn retries_stay_inside_working_hours() {
    let c = cal();
    let delay = TimeDelta::minutes(30);
    // Tuesday 1 December 2026.
    assert_eq!(
        retry_due(&c, msk(2026, 12, 1, 10, 0), delay),
        msk(2026, 12, 1, 10, 30)
    );
    // 17:50 + 30 working minutes: 10 today, 20 tomorrow morning.
    assert_eq!(
        retry_due(&c, msk(2026, 12, 1, 17, 50), delay),
        msk(2026, 12, 2, 9, 20)
    );
    // Ending exactly at closing moves to the next opening.
    assert_eq!(
        retry_due(&c, msk(2026, 12, 1, 17, 30), delay),
        msk(2026, 12, 2, 9, 0)
    );
    // Friday 17:50 → Monday.
    assert_eq!(
        retry_due(&c, msk(2026, 12, 4, 17, 50), delay),
        msk(2026, 12, 7, 9, 20)
    );
}

#[test]
fn every_outcome() {
    let c = cal();
    let s = CallbackSettings::default();
    let now = msk(2026, 12, 1, 11, 0);
    for o in [
        Outcome::Resolved,
        Outcome::WrongNumber,
        Outcome::RejectedInsufficientInfo,
        Outcome::RejectedUnclear,
    ] {
        assert_eq!(
            next_after(o, 0, None, &c, now, &s),
            Ok(Next::Close {
                outcome: o.as_str().into(),
                missed: false
            })
        );
    }
    for o in [Outcome::NoAnswer, Outcome::Busy] {
        assert_eq!(
            next_after(o, 0, None, &c, now, &s),
            Ok(Next::Reopen {
                due: msk(2026, 12, 1, 11, 30),
                deadline: None,
                missed: true
            })
        );
        assert_eq!(
            next_after(o, 2, None, &c, now, &s),
            Ok(Next::Close {
                outcome: UNREACHABLE.into(),
                missed: true
            })
        );
    }
    let at = msk(2026, 12, 2, 14, 0);
    assert_eq!(
        next_after(Outcome::FollowUp, 1, Some(at), &c, now, &s),
        Ok(Next::Reopen {
            due: at,
            deadline: Some(at),
            missed: false
        })
    );
    assert_eq!(
        next_after(Outcome::FollowUp, 0, None, &c, now, &s),
        Err(OutcomeError::FollowUpMissing)
    );
    assert_eq!(
        next_after(Outcome::FollowUp, 0, Some(now), &c, now, &s),
        Err(OutcomeError::FollowUpPast)
    );
    let evening = msk(2026, 12, 2, 19, 0);
    assert_eq!(
        next_after(Outcome::FollowUp, 0, Some(evening), &c, now, &s),
        Err(OutcomeError::FollowUpClosed {
            next_open: "2026-12-03T09:00:00+03:00".into()
        })
    );
    assert!(Outcome::Resolved.reached() && !Outcome::NoAnswer.reached());
    assert!(Outcome::Busy.missed() && !Outcome::WrongNumber.missed());
    assert_eq!("busy".parse::<Outcome>(), Ok(Outcome::Busy));
    assert!("maybe".parse::<Outcome>().is_err());
}

#[test]
fn credits_are_working_time() {
    let c = cal();
    let p = CallbackSettings::default().priority;
    // Staff due Monday 7 Dec 09:30 vs a parent due Friday 4 Dec 17:20: one working hour of credit
    // moves the Monday deadline to Friday 17:30 on the working axis, still after 17:20.
    let monday = work_ms(&c, msk(2026, 12, 7, 9, 30));
    let friday = work_ms(&c, msk(2026, 12, 4, 17, 20));
    assert!(p.rank(monday, true, 0) > p.rank(friday, false, 0));
    assert_eq!(
        p.rank(monday, true, 0),
        work_ms(&c, msk(2026, 12, 4, 17, 30))
    );
    // Plus one repeat call (30 min): Friday 17:00, now ahead.
    assert!(p.rank(monday, true, 1) < p.rank(friday, false, 0));
    // Repeats count up to the cap.
    assert_eq!(p.rank(monday, false, 3), p.rank(monday, false, 10));
    assert_eq!(
        p.rank_sql(),
        "(deadline_work_ms - (case when caller_category = 'staff' then 3600000 else 0 end) \
         - (case when repeat_count < 3 then repeat_count else 3 end) * 1800000)"
    );
}

#[test]
fn explanations_in_russian() {
    let c = cal();
    let now = msk(2026, 12, 1, 16, 25);
    let base = ReasonInput {
        due_at: msk(2026, 12, 1, 9, 0),
        deadline: msk(2026, 12, 1, 17, 0),
        repeat_count: 2,
        staff: false,
        silent: false,
        misses: 0,
        max_attempts: 3,
        follow_up: false,
        source: Source::Voicemail,
    };
    assert_eq!(
        reason(&base, &c, now),
        "срок истекает через 35 мин; звонил 3 раза"
    );
    let r = ReasonInput {
        repeat_count: 0,
        staff: true,
        silent: true,
        misses: 1,
        due_at: msk(2026, 12, 2, 9, 20),
        deadline: msk(2026, 12, 2, 15, 0),
        ..base
    };
    assert_eq!(
        reason(&r, &c, now),
        "срок истекает через 7 ч 35 мин; звонить не раньше ср 02.12 09:20; сотрудник школы; \
         без сообщения; попыток без ответа: 1 из 3"
    );
    let late = ReasonInput {
        repeat_count: 4,
        deadline: msk(2026, 12, 1, 14, 25),
        ..base
    };
    assert_eq!(reason(&late, &c, now), "срок истёк 2 ч назад; звонил 5 раз");
    let mail = ReasonInput {
        source: Source::Email,
        ..late
    };
    assert_eq!(
        reason(&mail, &c, now),
        "срок истёк 2 ч назад; обращался 5 раз; письмо на почту поддержки"
    );
    let agreed = ReasonInput {
        repeat_count: 0,
        follow_up: true,
        due_at: msk(2026, 12, 1, 17, 30),
        deadline: msk(2026, 12, 1, 17, 30),
        ..base
    };
    assert_eq!(
        reason(&agreed, &c, now),
        "срок истекает через 1 ч 5 мин; договорились перезвонить 17:30"
    );
    let walk_in = ReasonInput {
        repeat_count: 0,
        source: Source::WalkIn,
        ..base
    };
    assert_eq!(
        reason(&walk_in, &c, now),
        "срок истекает через 35 мин; создана вручную (личное обращение)"
    );
}

fn team(operators: u32) -> Staffing {
    Staffing {
        operators,
        handle: TimeDelta::minutes(6),
        share_percent: 50,
    }
}

#[test]
fn schedule_fills_windows_and_spills() {
    let c = cal();
    // Friday 27 Nov 2026 20:00; two operators at half time and 6 min each: a callback every 6 min,
    // 90 in a 9-hour window.
    let now = msk(2026, 11, 27, 20, 0);
    let at = |p| eta_for_position(&c, now, team(2), p).unwrap().at;
    assert_eq!(at(0), msk(2026, 11, 30, 9, 0));
    assert_eq!(at(10), msk(2026, 11, 30, 10, 0));
    assert_eq!(at(89), msk(2026, 11, 30, 17, 54));
    assert_eq!(at(90), msk(2026, 12, 1, 9, 0));
    // From the middle of a window: the rest of it first.
    let open = msk(2026, 12, 1, 17, 0);
    assert_eq!(
        eta_for_position(&c, open, team(2), 9).unwrap().at,
        msk(2026, 12, 1, 17, 54)
    );
    assert_eq!(
        eta_for_position(&c, open, team(2), 10).unwrap().at,
        msk(2026, 12, 2, 9, 0)
    );
    // A request not due yet waits for its due time.
    let dues = [now, msk(2026, 11, 30, 11, 0), now];
    let e = etas(&c, now, team(2), 0, dues);
    assert_eq!(e[0].unwrap().at, msk(2026, 11, 30, 9, 0));
    assert_eq!(e[1].unwrap().at, msk(2026, 11, 30, 11, 0));
    assert_eq!(e[2].unwrap().at, msk(2026, 11, 30, 9, 12));
    // The range told to the caller.
    let eta = eta_for_position(&c, now, team(2), 12).unwrap();
    assert_eq!(
        eta_range(&eta),
        (msk(2026, 11, 30, 10, 0), msk(2026, 11, 30, 11, 0))
    );
    // Nothing past the horizon: exactly `horizon_slots` positions get an estimate.
    assert!(eta_for_position(&c, now, team(1), 1_000_000).is_none());
    let k = horizon_slots(&c, now, team(2));
    assert!(k > 90 * 60, "about 80 working days of 90 slots: {k}");
    assert!(eta_for_position(&c, now, team(2), k - 1).is_some());
    assert!(eta_for_position(&c, now, team(2), k).is_none());
}

proptest! {
    #[test]
    fn due_and_retry_are_inside_hours(
        minutes in 0i64..(5 * 366 * 24 * 60),
        delay in 1i64..600,
    ) {
        let c = cal();
        let now = msk(2024, 1, 1, 0, 0) + TimeDelta::minutes(minutes);
        prop_assert!(c.is_open(due_at(&c, now)));
        let r = retry_due(&c, now, TimeDelta::minutes(delay));
        prop_assert!(c.is_open(r));
        prop_assert!(r > now);
        prop_assert_eq!(c.working_between(now, r), TimeDelta::minutes(delay));
        let due = due_at(&c, now);
        prop_assert_eq!(c.working_between(due, deadline(&c, due, TimeDelta::hours(8))), TimeDelta::hours(8));
    }

    #[test]
    fn schedule_is_ordered_and_agrees_with_positions(
        minutes in 0i64..(366 * 24 * 60),
        operators in 1u32..6,
        first in 0u64..400,
        n in 1usize..60,
    ) {
        let c = cal();
        let now = msk(2026, 1, 1, 0, 0) + TimeDelta::minutes(minutes);
        let list = etas(&c, now, team(operators), first, vec![now; n]);
        let mut last = now;
        for (i, e) in list.iter().enumerate() {
            let e = e.unwrap();
            prop_assert!(e.window.contains(e.at));
            prop_assert!(e.at >= last);
            last = e.at;
            prop_assert_eq!(Some(e), eta_for_position(&c, now, team(operators), first + i as u64));
            let (from, to) = eta_range(&e);
            prop_assert!(from <= e.at && e.at < to && to <= e.window.end);
        }
    }
}
