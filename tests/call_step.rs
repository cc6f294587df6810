//! The call path's numbered defects, each as a test on both backends: a wait tick racing the
//! dispatcher's move, a reservation lost to another instance, presence changes during a call, a
//! move left half-done, a queued call that is over at the provider (a real Twilio client against a
//! fake Twilio answering 21220), a caller every free operator missed, and the reconciler (what a
//! killed process left, and calls whose end never came).

mod support;

use std::sync::Arc;

use chrono::TimeDelta;
use perezvon::clock::ManualClock;
use perezvon::domain::operator::Presence;
use perezvon::store::StoreError;
use perezvon::telephony::twilio::{TwilioClient, TwilioControl};
use perezvon::telephony::{DialOutcome, EventKind, QueueResult};
use support::TestDb;
use support::line::{Line, caller, sid};
use support::twilio::msk;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Monday 7 December 2026, 10:00 in Moscow: the hotline is open.
fn open_line(db: &TestDb) -> Line {
    Line::new(
        db.store.clone(),
        Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0))),
    )
}

fn wait(secs: i64) -> EventKind {
    EventKind::QueueWait {
        position: 1,
        waited: TimeDelta::seconds(secs),
    }
}

fn dial_ended(outcome: DialOutcome) -> EventKind {
    EventKind::DialEnded {
        outcome,
        talk: TimeDelta::zero(),
    }
}

/// Defect 1: a queue-wait webhook racing the dispatcher's move never writes `queued` back over
/// `connecting`; the move then connects the caller and the reserved operator rings.
async fn a_wait_tick_never_undoes_a_move(db: &TestDb) {
    let line = open_line(db);
    let op = line.add_operator("anna", Presence::Available).await;
    for i in 0..12 {
        let (busy, waiting) = (sid(2 * i), sid(2 * i + 1));
        assert!(line.incoming(&busy, &caller(2 * i)).await.contains("dial("));
        let r = line.incoming(&waiting, &caller(2 * i + 1)).await;
        assert!(r.contains("enqueue"), "{r}");
        // The first call ends; the operator wraps up, then is free.
        let k = format!("dial:{i}");
        line.event(&busy, &caller(2 * i), &k, dial_ended(DialOutcome::Answered))
            .await
            .unwrap();
        line.advance(31);
        let from = caller(2 * i + 1);
        let tick = line.event(&waiting, &from, "wait:1", wait(31));
        let (tick, sent) = tokio::join!(tick, line.sb.dispatch_once(line.control.as_ref()));
        tick.unwrap();
        assert_eq!(sent.unwrap(), 1, "round {i}");
        let c = line.call(&waiting).await;
        assert_eq!(
            (c.state.as_str(), c.operator_id),
            ("connecting", Some(op)),
            "round {i}"
        );
        let r = line
            .event(
                &waiting,
                &caller(2 * i + 1),
                "connect",
                EventKind::Connect { operator_id: op },
            )
            .await
            .unwrap();
        assert!(r.contains(&format!("dial(op {op})")), "round {i}: {r}");
        let o = line.operator(op).await;
        assert_eq!(o.presence, Presence::OnCall);
        assert_eq!(o.current_call_id, Some(c.id));
        line.event(
            &waiting,
            &caller(2 * i + 1),
            "dial",
            dial_ended(DialOutcome::Answered),
        )
        .await
        .unwrap();
        line.advance(31);
    }
}

/// Defects 2 and 5: two instances on one database take 16 calls at once with one free operator:
/// exactly one call dials them (the one they are reserved for); nobody dials an operator they
/// could not reserve.
async fn one_free_operator_is_dialled_once(db: &TestDb) {
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0)));
    let a = Line::new(db.store.clone(), clock.clone());
    let b = Line::new(db.another_instance().await, clock);
    let op = a.add_operator("anna", Presence::Available).await;
    let calls = (0..16).map(|i| {
        let line = if i % 2 == 0 { &a } else { &b };
        async move { (i, line.incoming(&sid(i), &caller(i)).await) }
    });
    let replies = futures::future::join_all(calls).await;
    let dialled: Vec<usize> = replies
        .iter()
        .filter(|(_, r)| r.contains("dial("))
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(dialled.len(), 1, "{replies:?}");
    let winner = a.call(&sid(dialled[0])).await;
    assert_eq!(winner.operator_id, Some(op));
    assert_eq!(a.operator(op).await.current_call_id, Some(winner.id));
    for (i, r) in &replies {
        if *i != dialled[0] {
            assert!(r.contains("enqueue"), "call {i}: {r}");
            assert_eq!(a.call(&sid(*i)).await.state, "queued");
        }
    }
}

/// Defect 2: two instances handle two events of one call at the same moment — the operator did
/// not answer (instance A routes the caller to the next operator) while the caller hangs up
/// (instance B ends the call). Whatever the order, the call ends with no operator left reserved
/// for it: the events of one call never interleave, whichever instance takes them.
async fn two_instances_never_act_on_one_call_at_once(db: &TestDb) {
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0)));
    let a = Line::new(db.store.clone(), clock.clone());
    let b = Line::new(db.another_instance().await, clock);
    let ops = [
        a.add_operator("anna", Presence::Available).await,
        a.add_operator("boris", Presence::Available).await,
    ];
    for i in 0..20 {
        let (id, from) = (sid(i), caller(i));
        assert!(a.incoming(&id, &from).await.contains("dial("));
        let hangup = EventKind::Status {
            status: perezvon::telephony::CallStatus::Completed,
            sequence: None,
            duration: None,
        };
        let (x, y) = tokio::join!(
            a.event(&id, &from, "dial", dial_ended(DialOutcome::NoAnswer)),
            b.event(&id, &from, "status", hangup),
        );
        x.unwrap();
        y.unwrap();
        let c = a.call(&id).await;
        assert_eq!(c.state, "abandoned", "round {i}");
        for op in ops {
            let o = a.operator(op).await;
            assert_ne!(
                o.presence,
                Presence::OnCall,
                "round {i}: {o:?} left on {c:?}"
            );
            if o.presence == Presence::Break {
                a.store
                    .set_presence(op, Presence::Available, a.now())
                    .await
                    .unwrap();
            }
        }
    }
}

/// Off hours a new call's first step is written at once (one statement on PostgreSQL); a
/// re-delivery of it, and one racing it on another instance, get the same reply and change nothing.
async fn an_off_hours_call_is_stored_once_whoever_delivers_it(db: &TestDb) {
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 6, 12, 0)));
    let a = Line::new(db.store.clone(), clock.clone());
    let b = Line::new(db.another_instance().await, clock);
    let (id, from) = (sid(1), caller(1));
    let (x, y) = tokio::join!(a.incoming(&id, &from), b.incoming(&id, &from));
    assert_eq!(x, y);
    assert!(x.contains("gather(VoicemailNumber"), "{x}");
    assert_eq!(a.incoming(&sid(1), &caller(1)).await, x);
    let c = a.call(&sid(1)).await;
    assert_eq!((c.state.as_str(), c.version), ("voicemail", 1));
    assert_eq!(a.store.call_events(c.id).await.unwrap().len(), 1);
    let vm = a.store.voicemail_for_call(c.id).await.unwrap().unwrap();
    assert_eq!(vm.caller_id.as_deref(), Some(caller(1).as_str()));
}

/// Defect 6: presence set by hand while the operator's phone rings for a call is refused; the
/// reservation stays, so the operator cannot be booked twice.
async fn presence_cannot_free_an_operator_on_a_call(db: &TestDb) {
    let line = open_line(db);
    let op = line.add_operator("anna", Presence::Available).await;
    assert!(line.incoming(&sid(1), &caller(1)).await.contains("dial("));
    let r = line
        .store
        .set_presence(op, Presence::Available, line.now())
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let o = line.operator(op).await;
    assert_eq!(o.presence, Presence::OnCall);
    assert_eq!(o.current_call_id, Some(line.call(&sid(1)).await.id));
    let r = line.incoming(&sid(2), &caller(2)).await;
    assert!(!r.contains("dial("), "booked twice: {r}");
}

/// Defect 7: a call left `connecting` (the process died between taking it out of the queue and the
/// provider's redirect) goes back to the queue after the bound, the operator is free again, and
/// the caller hears the queue again instead of silence for ever.
async fn a_stuck_move_goes_back_to_the_queue(db: &TestDb) {
    let line = open_line(db);
    let op = line.add_operator("anna", Presence::Available).await;
    assert!(line.incoming(&sid(1), &caller(1)).await.contains("dial("));
    assert!(line.incoming(&sid(2), &caller(2)).await.contains("enqueue"));
    line.event(
        &sid(1),
        &caller(1),
        "dial",
        dial_ended(DialOutcome::Answered),
    )
    .await
    .unwrap();
    line.advance(31);
    // What a killed dispatcher leaves: the operator reserved, the call `connecting`, no redirect.
    let queued = line.call(&sid(2)).await;
    line.store
        .finish_wrap_ups(line.now(), line.now())
        .await
        .unwrap();
    assert!(
        line.store
            .reserve_operator(op, queued.id, line.now(), line.now())
            .await
            .unwrap()
    );
    assert!(
        line.store
            .claim_queued_call(queued.id, op, line.now())
            .await
            .unwrap()
    );
    let r = line
        .event(&sid(2), &caller(2), "wait:1", wait(31))
        .await
        .unwrap();
    assert_eq!(r, "pause(1s)");
    line.advance(16);
    let done = line.sb.reconcile_once().await.unwrap();
    assert_eq!(done.stuck_connecting, 1, "{done:?}");
    let c = line.call(&sid(2)).await;
    assert_eq!((c.state.as_str(), c.operator_id), ("queued", None));
    assert_eq!(line.operator(op).await.presence, Presence::Available);
    let r = line
        .event(&sid(2), &caller(2), "wait:2", wait(47))
        .await
        .unwrap();
    assert!(r.starts_with("gather(QueueMenu)"), "{r}");
    assert_eq!(line.dispatch().await, 1);
    assert_eq!(line.control.moves(), vec![(sid(2), op)]);
}

/// Defect 10: the first queued caller's call ended without our hearing of it; Twilio refuses its
/// redirect with 21220. That call ends, and the caller behind it reaches the free operator in the
/// same pass. A queued call with no webhook for longer than the longest wait is swept.
async fn a_call_over_at_the_provider_does_not_block_the_queue(db: &TestDb) {
    let twilio = MockServer::start().await;
    let (gone, live, silent) = (sid(2), sid(3), sid(4));
    Mock::given(method("POST"))
        .and(path_regex(format!("/Calls/{gone}.json$")))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 21220,
            "message": "Call is not in-progress. Cannot redirect.",
            "more_info": "https://www.twilio.com/docs/errors/21220",
            "status": 400
        })))
        .expect(1)
        .mount(&twilio)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!("/Calls/{live}.json$")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"sid": live})))
        .expect(1)
        .mount(&twilio)
        .await;
    let line = open_line(db);
    let op = line.add_operator("anna", Presence::Available).await;
    assert!(line.incoming(&sid(1), &caller(1)).await.contains("dial("));
    for (i, s) in [(2, &gone), (3, &live), (4, &silent)] {
        assert!(line.incoming(s, &caller(i)).await.contains("enqueue"));
    }
    line.event(
        &sid(1),
        &caller(1),
        "dial",
        dial_ended(DialOutcome::Answered),
    )
    .await
    .unwrap();
    line.advance(31);
    for (i, s) in [(3, &live), (4, &silent)] {
        line.event(s, &caller(i), "wait:1", wait(31)).await.unwrap();
    }
    let control = TwilioControl {
        client: TwilioClient::new(&twilio.uri(), support::twilio::SID, support::twilio::TOKEN)
            .unwrap(),
        public_url: support::twilio::PUBLIC.into(),
    };
    assert_eq!(line.sb.dispatch_once(&control).await.unwrap(), 1);
    assert_eq!(line.call(&gone).await.state, "abandoned");
    let c = line.call(&live).await;
    assert_eq!((c.state.as_str(), c.operator_id), ("connecting", Some(op)));
    assert_eq!(line.call(&silent).await.state, "queued");
    twilio.verify().await;
    // The silent caller's webhooks stopped (the callbacks were lost): swept after the longest wait.
    line.advance(120 + 60 + 1);
    let done = line.sb.reconcile_once().await.unwrap();
    assert_eq!(done.stale_queued, 1, "{done:?}");
    assert_eq!(line.call(&silent).await.state, "abandoned");
}

/// Defect 11: both free operators missed the first queued caller; a new caller behind them is
/// connected at once instead of waiting behind.
async fn callers_behind_one_every_operator_missed_are_served(db: &TestDb) {
    let line = open_line(db);
    let anna = line.add_operator("anna", Presence::Available).await;
    let boris = line.add_operator("boris", Presence::Available).await;
    let (missed, next) = (sid(1), sid(2));
    assert!(line.incoming(&missed, &caller(1)).await.contains("dial("));
    let r = line
        .event(
            &missed,
            &caller(1),
            "dial:1",
            dial_ended(DialOutcome::NoAnswer),
        )
        .await
        .unwrap();
    assert!(r.contains("dial("), "{r}");
    let r = line
        .event(
            &missed,
            &caller(1),
            "dial:2",
            dial_ended(DialOutcome::NoAnswer),
        )
        .await
        .unwrap();
    assert!(r.contains("enqueue"), "{r}");
    assert!(line.incoming(&next, &caller(2)).await.contains("enqueue"));
    assert_eq!(line.dispatch().await, 1);
    let moves = line.control.moves();
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0].0, next);
    assert!([anna, boris].contains(&moves[0].1));
    assert_eq!(line.call(&missed).await.state, "queued");
    // The missed caller is not lost: at the longest wait they leave for voicemail.
    let r = line
        .event(&missed, &caller(1), "wait:9", wait(121))
        .await
        .unwrap();
    assert_eq!(r, "leave");
    line.event(
        &missed,
        &caller(1),
        "left",
        EventKind::QueueLeft {
            result: QueueResult::Left,
            waited: TimeDelta::seconds(121),
        },
    )
    .await
    .unwrap();
    assert_eq!(line.call(&missed).await.state, "voicemail");
}

/// Defects 3 and 4: what a killed process left — an operator `on_call` for a call that went to
/// voicemail, a voicemail whose number is settled but that never joined the callback list — is
/// repaired by the reconciler, counted; a second pass finds nothing.
async fn the_reconciler_repairs_what_a_killed_process_left(db: &TestDb) {
    let line = open_line(db);
    let op = line.add_operator("anna", Presence::Break).await;
    // Nobody staffs the line: the caller goes to voicemail.
    let r = line.incoming(&sid(1), &caller(1)).await;
    assert!(r.contains("gather(VoicemailNumber"), "{r}");
    let call = line.call(&sid(1)).await;
    line.store
        .set_presence(op, Presence::Available, line.now())
        .await
        .unwrap();
    assert!(
        line.store
            .reserve_operator(op, call.id, line.now(), line.now())
            .await
            .unwrap()
    );
    line.store
        .set_voicemail_number(call.id, &caller(1), true)
        .await
        .unwrap();
    assert!(
        line.store
            .callback_for_call(call.id)
            .await
            .unwrap()
            .is_none()
    );
    // Young reservations are left alone: a step may be committing them.
    let early = line.sb.reconcile_once().await.unwrap();
    assert_eq!(early.orphaned_operators, 0);
    line.advance(11);
    let done = line.sb.reconcile_once().await.unwrap();
    assert_eq!(
        (done.orphaned_operators, done.unlisted_voicemails),
        (1, 1),
        "{done:?}"
    );
    let o = line.operator(op).await;
    assert_eq!((o.presence, o.current_call_id), (Presence::Available, None));
    let r = line
        .store
        .callback_for_call(call.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.callback_number, caller(1));
    let again = line.sb.reconcile_once().await.unwrap();
    assert_eq!(again.total(), 0, "{again:?}");
    assert_eq!(line.sb.repairs().total(), 2);
    let events = line.store.call_events(call.id).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "repair_join"));
}

/// A new call in hours may be planned on a snapshot of the operators a moment old (PostgreSQL
/// under load, forgotten whenever this instance frees an operator): an operator another instance
/// has just freed still takes the next caller — dialled at once, or held and moved to them by
/// the dispatcher's next look.
async fn an_operator_freed_on_another_instance_takes_the_next_caller(db: &TestDb) {
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0)));
    let a = Line::new(db.store.clone(), clock.clone());
    let b = Line::new(db.another_instance().await, clock);
    let op = a.add_operator("anna", Presence::Available).await;
    assert!(a.incoming(&sid(0), &caller(0)).await.contains("dial("));
    // A second caller is held on A, whose snapshot now says anna is busy.
    let r = a.incoming(&sid(1), &caller(1)).await;
    assert!(r.contains("enqueue"), "{r}");
    // On B the held caller hangs up and anna's call ends; her wrap-up passes.
    let left = EventKind::QueueLeft {
        result: QueueResult::Hangup,
        waited: TimeDelta::seconds(5),
    };
    b.event(&sid(1), &caller(1), "left", left).await.unwrap();
    let ended = dial_ended(DialOutcome::Answered);
    b.event(&sid(0), &caller(0), "dial:0", ended).await.unwrap();
    a.advance(31);
    let r = a.incoming(&sid(2), &caller(2)).await;
    let moved = a.dispatch().await;
    let c = a.call(&sid(2)).await;
    assert_eq!(c.operator_id, Some(op), "{r}, {moved} moved");
    if r.contains("dial(") {
        assert_eq!((c.state.as_str(), moved), ("ringing_operator", 0));
    } else {
        assert!(r.contains("enqueue"), "{r}");
        assert_eq!((c.state.as_str(), moved), ("connecting", 1));
        assert_eq!(a.control.moves(), vec![(sid(2), op)]);
    }
    assert_eq!(a.operator(op).await.current_call_id, Some(c.id));
    let how = if moved == 0 {
        "dialled at once"
    } else {
        "held, then moved by the dispatcher"
    };
    println!("{}: the next caller was {how}", db.store.backend());
}

/// The reconciler and calls whose end never came (the dial's result and the final status both
/// lost, say while the database was down): a finished conversation is closed after a quarter of
/// an hour; an operator "ringing" longer than any call lasts is freed and the caller put on the
/// callback list.
async fn calls_whose_end_never_came_are_closed_and_their_operator_freed(db: &TestDb) {
    let line = open_line(db);
    let op = line.add_operator("anna", Presence::Available).await;
    // A conversation that ended (the dial's result came) but whose final status never did.
    assert!(line.incoming(&sid(1), &caller(1)).await.contains("dial("));
    let ended = dial_ended(DialOutcome::Answered);
    line.event(&sid(1), &caller(1), "dial:1", ended)
        .await
        .unwrap();
    assert_eq!(line.call(&sid(1)).await.state, "connected");
    line.advance(10 * 60);
    assert_eq!(
        line.sb.reconcile_once().await.unwrap().lost_endings,
        0,
        "too early"
    );
    line.advance(6 * 60);
    let done = line.sb.reconcile_once().await.unwrap();
    assert_eq!(done.lost_endings, 1, "{done:?}");
    assert_eq!(line.call(&sid(1)).await.state, "completed");
    // A call whose dial never reported back: anna stays on it until no call could last so long.
    assert!(line.incoming(&sid(2), &caller(2)).await.contains("dial("));
    let call = line.call(&sid(2)).await;
    line.advance(4 * 3600);
    assert_eq!(
        line.sb.reconcile_once().await.unwrap().lost_endings,
        0,
        "a long call goes on"
    );
    assert_eq!(line.operator(op).await.current_call_id, Some(call.id));
    line.advance(20 * 60);
    let done = line.sb.reconcile_once().await.unwrap();
    assert_eq!(done.lost_endings, 1, "{done:?}");
    assert_eq!(line.call(&sid(2)).await.state, "abandoned");
    let o = line.operator(op).await;
    assert_eq!((o.presence, o.current_call_id), (Presence::Available, None));
    let r = line.store.callback_for_call(call.id).await.unwrap();
    assert_eq!(r.map(|r| r.callback_number), Some(caller(2)));
    let events = line.store.call_events(call.id).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "repair_close"));
    assert_eq!(line.sb.repairs().lost_endings, 2);
}

on_both_backends!(
    calls_whose_end_never_came_are_closed_and_their_operator_freed,
    an_operator_freed_on_another_instance_takes_the_next_caller,
    a_wait_tick_never_undoes_a_move,
    one_free_operator_is_dialled_once,
    two_instances_never_act_on_one_call_at_once,
    an_off_hours_call_is_stored_once_whoever_delivers_it,
    presence_cannot_free_an_operator_on_a_call,
    a_stuck_move_goes_back_to_the_queue,
    a_call_over_at_the_provider_does_not_block_the_queue,
    callers_behind_one_every_operator_missed_are_served,
    the_reconciler_repairs_what_a_killed_process_left,
);

/// PostgreSQL (row locks; SQLite's one writer runs steps one after another): a new caller's step
/// does not wait for an operator whose row another transaction holds (another step reserving
/// them) but plans without them: the queue when every free operator is held, and for the
/// dispatcher's move of the held caller, the operator nobody holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_operator_is_passed_over_not_waited_for() {
    use sqlx::Connection;
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let line = open_line(&db);
    let anna = line.add_operator("anna", Presence::Available).await;
    let boris = line.add_operator("boris", Presence::Available).await;
    let mut other = sqlx::PgConnection::connect(&db.database_url())
        .await
        .unwrap();
    let mut tx = other.begin().await.unwrap();
    let held: Vec<i64> = sqlx::query_scalar("select id from operators order by id for update")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(held, vec![anna, boris]);
    let first = sid(1);
    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        line.incoming(&first, &caller(1)),
    )
    .await
    .expect("the step waited for the operators another transaction holds");
    assert!(reply.contains("enqueue"), "{reply}");
    assert_eq!(line.call(&sid(1)).await.state, "queued");
    for op in [anna, boris] {
        assert_eq!(line.operator(op).await.presence, Presence::Available);
    }
    // Only boris is held now: the dispatcher's move gives the held caller anna, without waiting.
    tx.rollback().await.unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query("select id from operators where id = $1 for update")
        .bind(boris)
        .execute(&mut *tx)
        .await
        .unwrap();
    let moved = tokio::time::timeout(std::time::Duration::from_secs(10), line.dispatch())
        .await
        .expect("the dispatcher's move waited for the operator another transaction holds");
    assert_eq!(moved, 1);
    let call = line.call(&first).await;
    assert_eq!(call.operator_id, Some(anna));
    assert_eq!(line.operator(anna).await.current_call_id, Some(call.id));
    tx.rollback().await.unwrap();
    assert_eq!(line.operator(boris).await.presence, Presence::Available);
    other.close().await.unwrap();
    db.finish().await;
}

/// PostgreSQL: a burst of new callers planned on the same free operators takes those operators
/// one step at a time on an instance, so that once everyone is busy the rest are held in one
/// statement each rather than
/// all racing for the operators' rows in full steps. Which way a call was stored shows in its row:
/// the one statement writes it in its first command, a full step updates it in a later one of its
/// transaction (PostgreSQL's `cmin`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_for_free_operators_reserves_them_one_at_a_time() {
    use sqlx::Connection;
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let line = open_line(&db);
    let ops = [
        line.add_operator("anna", Presence::Available).await,
        line.add_operator("boris", Presence::Available).await,
    ];
    let calls = (0..16).map(|i| {
        let line = &line;
        async move { (i, line.incoming(&sid(i), &caller(i)).await) }
    });
    let replies = futures::future::join_all(calls).await;
    let mut conn = sqlx::PgConnection::connect(&db.database_url())
        .await
        .unwrap();
    let mut dialled = Vec::new();
    let mut full_steps = Vec::new();
    for (i, r) in &replies {
        let c = line.call(&sid(*i)).await;
        let command: i64 = sqlx::query_scalar("select cmin::text::bigint from calls where id = $1")
            .bind(c.id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if r.contains("dial(") {
            dialled.push(c.operator_id.unwrap());
            assert!(command > 0, "a dialled call takes the full step");
        } else {
            assert!(r.contains("enqueue"), "call {i}: {r}");
            assert_eq!(c.state, "queued");
            if command > 0 {
                full_steps.push(*i);
            }
        }
    }
    conn.close().await.unwrap();
    dialled.sort();
    assert_eq!(dialled, ops.to_vec(), "{replies:?}");
    assert_eq!(
        full_steps,
        Vec::<usize>::new(),
        "held callers stored in full steps"
    );
    println!("16 callers at once, 2 free operators: both dialled, 14 held in one statement each");
}

/// PostgreSQL, two instances sharing wake-ups: a new call that found nobody seated (voicemail)
/// leaves its instance a snapshot of the operators for the next new calls a moment later. An
/// operator who sits down on the other instance takes the next caller on the first one at once,
/// rather than that caller being sent to voicemail on the old snapshot: the other instance's
/// dispatcher wake-up makes the first forget it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_seated_on_another_instance_takes_the_next_caller_at_once() {
    use std::time::{Duration, Instant};
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0)));
    let lines: Vec<Line> = db
        .two_instances_sharing_wakeups(&stop)
        .await
        .into_iter()
        .map(|(store, wake)| Line::with_wake(store, clock.clone(), wake))
        .collect();
    let (a, b) = (&lines[0], &lines[1]);
    let anna = b.add_operator("anna", Presence::Offline).await;
    // Both listeners listening.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = a.incoming(&sid(0), &caller(0)).await;
    assert!(
        r.contains("gather(VoicemailNumber"),
        "nobody seated: voicemail, got {r}"
    );
    let planned = Instant::now();
    // A wake-up A may hold from before is spent, so the wait below is for B's.
    let _ = tokio::time::timeout(Duration::from_millis(1), a.sb.wake().dispatch_notified()).await;
    b.store
        .set_presence(anna, Presence::Available, b.now())
        .await
        .unwrap();
    b.sb.wake_dispatcher();
    tokio::time::timeout(Duration::from_secs(5), a.sb.wake().dispatch_notified())
        .await
        .expect("instance A never heard of B's change");
    let r = a.incoming(&sid(1), &caller(1)).await;
    let fresh = planned.elapsed() < Duration::from_millis(200);
    assert!(r.contains("dial("), "anna is seated: dialled, got {r}");
    assert_eq!(a.call(&sid(1)).await.operator_id, Some(anna));
    println!(
        "the next caller on A was dialled to the operator seated on B {} ms after A's snapshot \
         ({}within its 200 ms lifetime)",
        planned.elapsed().as_millis(),
        if fresh { "" } else { "not " }
    );
    stop_tx.send(true).unwrap();
    drop(lines);
    db.finish().await;
}
