//! The callback part of the storage conformance suite, on SQLite always and on PostgreSQL when
//! `PEREZVON_TEST_POSTGRES_URL` is set, each test on a fresh database: one request per number,
//! list order, claims under leases (16 concurrent claimers over two instances), click-to-call
//! attempts with idempotency keys, outcomes and history.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::domain::callback::{CallbackSettings, Priority};
use perezvon::domain::operator::ContactKind;
use perezvon::domain::phone::PhoneNumber;
use perezvon::domain::user::Role;
use perezvon::store::{
    AttachVoicemail, Attached, AudioUpdate, Claimed, DialStart, ListScope, NewOperator, NewUser,
    OutcomeChange, OutcomeNext, Store, StoreError,
};
use support::TestDb;

on_both_backends!(
    one_request_per_number,
    list_order_and_refresh,
    claims_and_lease_expiry,
    sixteen_claimers_each_request_once,
    a_burst_of_claims_takes_the_top_of_the_list,
    dial_attempts_are_idempotent,
    outcomes_close_or_reopen,
    one_claim_per_operator,
    release_by_holder_or_supervisor,
    the_claim_holds_while_the_holder_talks,
    calls_that_never_connect_do_not_hold_the_claim,
    idempotency_keys_belong_to_request_and_operator,
);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap()
}

fn prio() -> Priority {
    CallbackSettings::default().priority
}

async fn operator(store: &Arc<dyn Store>, login: &str) -> i64 {
    let u = NewUser {
        login: login.into(),
        display_name: login.into(),
        role: Role::Operator,
        password_hash: "h".into(),
    };
    let u = store.create_user(&u, t0()).await.unwrap();
    let new = NewOperator {
        user_id: u.id,
        name: login.into(),
        contact_kind: ContactKind::Phone,
        contact: "+74950000001".into(),
    };
    store.create_operator(&new, t0()).await.unwrap().id
}

/// A call with a voicemail for `number`, attached; `deadline_work_ms` stands for the deadline.
async fn voicemail(
    store: &Arc<dyn Store>,
    sid: &str,
    number: &str,
    category: Option<&str>,
    at: DateTime<Utc>,
    deadline_work_ms: i64,
) -> (i64, Attached) {
    let call = store
        .ensure_call("twilio", sid, Some(number), Some("+74950000000"), at)
        .await
        .unwrap();
    store
        .start_voicemail(call.id, Some(number), at)
        .await
        .unwrap();
    if let Some(c) = category {
        store.set_voicemail_category(call.id, c).await.unwrap();
    }
    let p = prio();
    let a = AttachVoicemail {
        call_id: call.id,
        number,
        category,
        now: at,
        due: at,
        deadline: at + TimeDelta::hours(8),
        deadline_work_ms,
        priority: &p,
        source: "voicemail",
        registration: &perezvon::domain::registration::RegistrationFormat::default(),
    };
    let attached = store.attach_voicemail(&a).await.unwrap().unwrap();
    (call.id, attached)
}

async fn one_request_per_number(db: &TestDb) {
    let s = &db.store;
    let a = PhoneNumber::parse("8 (916) 123-45-67").unwrap();
    let b = PhoneNumber::parse("+79161234567").unwrap();
    let (call1, first) = voicemail(s, "CA1", a.as_str(), Some("parent"), t0(), 1_000).await;
    let Attached::Created(id) = first else {
        panic!("{first:?}")
    };
    let later = t0() + TimeDelta::minutes(5);
    let (_, second) = voicemail(s, "CA2", b.as_str(), Some("staff"), later, 2_000).await;
    assert_eq!(second, Attached::Merged(id));
    // Attaching the same voicemail again changes nothing.
    let p = prio();
    let again = AttachVoicemail {
        call_id: call1,
        number: a.as_str(),
        category: None,
        now: later,
        due: later,
        deadline: later,
        deadline_work_ms: 0,
        priority: &p,
        source: "voicemail",
        registration: &perezvon::domain::registration::RegistrationFormat::default(),
    };
    assert_eq!(
        s.attach_voicemail(&again).await.unwrap(),
        Some(Attached::Already(id))
    );
    // No voicemail for this call: nothing to attach.
    let bare = s
        .ensure_call("twilio", "CA-none", None, None, t0())
        .await
        .unwrap();
    let none = AttachVoicemail {
        call_id: bare.id,
        ..again.clone()
    };
    assert_eq!(s.attach_voicemail(&none).await.unwrap(), None);

    let r = s.callback_request(id).await.unwrap().unwrap();
    assert_eq!(r.callback_number, "+79161234567");
    assert_eq!((r.repeat_count, r.state.as_str()), (1, "open"));
    assert_eq!(r.caller_category.as_deref(), Some("staff"), "staff wins");
    assert_eq!(r.voicemail_ids.len(), 2);
    assert_eq!(r.due_at, t0(), "the earlier due time stays");
    assert_eq!(r.deadline_work_ms, 1_000);
    assert_eq!(r.rank_ms, p.rank(1_000, true, 1));
    assert_eq!(s.active_callback_count().await.unwrap(), 1);
    let h: Vec<String> = s
        .callback_history(id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(h, ["created", "merged"]);
    assert_eq!(s.callback_for_call(call1).await.unwrap().unwrap().id, id);
}

async fn list_order_and_refresh(db: &TestDb) {
    let s = &db.store;
    let hour = 3_600_000;
    // Same deadline: the one with a message first, then by arrival.
    let (c1, r1) = voicemail(s, "CA1", "+79160000001", None, t0(), 10 * hour).await;
    let (c2, r2) = voicemail(
        s,
        "CA2",
        "+79160000002",
        None,
        t0() + TimeDelta::seconds(1),
        10 * hour,
    )
    .await;
    let (_, r3) = voicemail(
        s,
        "CA3",
        "+79160000003",
        None,
        t0() + TimeDelta::seconds(2),
        10 * hour,
    )
    .await;
    // Staff with a later deadline, moved forward by one hour: ahead of all.
    let (_, r4) = voicemail(
        s,
        "CA4",
        "+79160000004",
        Some("staff"),
        t0(),
        10 * hour + hour / 2,
    )
    .await;
    // A later deadline.
    let (_, r5) = voicemail(s, "CA5", "+79160000005", None, t0(), 11 * hour).await;
    // None has a recording yet: all silent. Give the second one a message.
    assert!(s.callback_for_call(c1).await.unwrap().unwrap().silent);
    s.set_voicemail_recording(c2, "twilio:RE2", "https://api.twilio.com/RE2", Some(30_000))
        .await
        .unwrap();
    s.refresh_callback_for_call(c2, &prio()).await.unwrap();
    let ids =
        |v: Vec<perezvon::store::CallbackRequest>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let list = s.list_callbacks(ListScope::Active, 10, 0).await.unwrap();
    let silent: Vec<bool> = list.iter().map(|r| r.silent).collect();
    assert_eq!(
        ids(list),
        [r4, r2, r1, r3, r5].map(|a| a.request_id()),
        "silent flags {silent:?}"
    );
    // The recording turns out silent: back behind the other silent one that arrived earlier.
    let audio = AudioUpdate {
        status: "stored".into(),
        has_speech: Some(false),
        ..AudioUpdate::default()
    };
    s.set_voicemail_audio(c2, &audio).await.unwrap();
    s.refresh_callback_for_call(c2, &prio()).await.unwrap();
    let list = s.list_callbacks(ListScope::Active, 10, 0).await.unwrap();
    assert_eq!(
        ids(list.clone()),
        [r4, r1, r2, r3, r5].map(|a| a.request_id())
    );
    assert_eq!(
        ids(s.list_callbacks(ListScope::Active, 2, 1).await.unwrap()),
        [r1.request_id(), r2.request_id()]
    );
    // Positions count open requests ahead.
    let pos: Vec<u64> = futures_positions(s, &list).await;
    assert_eq!(pos, [0, 1, 2, 3, 4]);
    // Staff credit set to zero: ranks recomputed.
    let flat = Priority {
        staff_credit: TimeDelta::zero(),
        ..prio()
    };
    assert_eq!(s.rerank_callbacks(&flat).await.unwrap(), 5);
    let list = s.list_callbacks(ListScope::Active, 10, 0).await.unwrap();
    assert_eq!(ids(list), [r1, r2, r3, r4, r5].map(|a| a.request_id()));
}

async fn futures_positions(
    s: &Arc<dyn Store>,
    list: &[perezvon::store::CallbackRequest],
) -> Vec<u64> {
    let mut out = Vec::new();
    for r in list {
        out.push(s.callback_position(r).await.unwrap());
    }
    out
}

async fn claims_and_lease_expiry(db: &TestDb) {
    let s = &db.store;
    let (ivanova, petrov) = (operator(s, "ivanova").await, operator(s, "petrov").await);
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let (_, b) = voicemail(s, "CA2", "+79160000002", None, t0(), 2_000).await;
    let lease = TimeDelta::minutes(15);
    // Not due yet: nothing to claim before t0.
    assert!(
        s.claim_callback(ivanova, "ivanova", t0() - TimeDelta::minutes(1), lease)
            .await
            .unwrap()
            .is_none()
    );
    let first = s
        .claim_callback(ivanova, "ivanova", t0(), lease)
        .await
        .unwrap()
        .unwrap()
        .into_request();
    assert_eq!(
        (first.id, first.state.as_str()),
        (a.request_id(), "claimed")
    );
    assert_eq!(first.claimed_by, Some(ivanova));
    assert_eq!(first.lease_until, Some(t0() + lease));
    let second = s
        .claim_callback(petrov, "petrov", t0(), lease)
        .await
        .unwrap()
        .unwrap()
        .into_request();
    assert_eq!(second.id, b.request_id());
    // Nothing else is due for Ivanova's colleague.
    let third = operator(s, "sidorov").await;
    assert!(
        s.claim_callback(third, "sidorov", t0(), lease)
            .await
            .unwrap()
            .is_none()
    );
    // Ivanova's lease runs out: the request returns to the list and Petrov gets it.
    let later = t0() + lease + TimeDelta::seconds(1);
    let again = s
        .claim_callback(petrov, "petrov", later, lease)
        .await
        .unwrap()
        .unwrap()
        .into_request();
    assert_eq!((again.id, again.claimed_by), (a.request_id(), Some(petrov)));
    let h: Vec<(String, String)> = s
        .callback_history(a.request_id())
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.actor, h.action))
        .collect();
    let h: Vec<(&str, &str)> = h.iter().map(|(x, y)| (x.as_str(), y.as_str())).collect();
    assert_eq!(
        h,
        [
            ("system", "created"),
            ("ivanova", "claimed"),
            ("system", "released"),
            ("petrov", "claimed")
        ]
    );
    // An outcome from the operator who lost the lease is refused.
    let p = prio();
    let o = OutcomeChange {
        request_id: a.request_id(),
        operator_id: ivanova,
        actor: "ivanova",
        outcome: "resolved",
        topic: Some("grades"),
        note: None,
        now: later,
        next: OutcomeNext::Close {
            outcome: "resolved".into(),
            missed: false,
        },
        priority: &p,
    };
    assert!(matches!(
        s.record_outcome(&o).await,
        Err(StoreError::Conflict(_))
    ));
    // Petrov's first lease ran out at the last claim (released then); his second one now.
    assert_eq!(
        s.release_expired_callbacks(later + lease * 2)
            .await
            .unwrap(),
        1
    );
    let h = s.callback_history(b.request_id()).await.unwrap();
    assert_eq!(h.last().unwrap().action, "released");
}

async fn sixteen_claimers_each_request_once(db: &TestDb) {
    let s = &db.store;
    let other = db.another_instance().await;
    let mut ops = Vec::new();
    for i in 0..16 {
        ops.push(operator(s, &format!("op{i:02}")).await);
    }
    for i in 0..1000 {
        voicemail(
            s,
            &format!("CA{i}"),
            &format!("+7916{i:07}"),
            None,
            t0(),
            i64::from(i % 37) * 1000,
        )
        .await;
    }
    let mut tasks = Vec::new();
    for (i, op) in ops.into_iter().enumerate() {
        // Two pools on PostgreSQL stand for two instances (on SQLite, two stores on one file).
        let store = if i % 2 == 0 { s.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            let now = t0() + TimeDelta::minutes(1);
            let p = prio();
            while let Some(c) = store
                .claim_callback(op, "op", now, TimeDelta::minutes(15))
                .await
                .unwrap()
            {
                let Claimed::New(r) = c else {
                    panic!("the operator closes each request before the next claim: {c:?}")
                };
                assert_eq!(r.claimed_by, Some(op));
                got.push(r.id);
                // One claim per operator: close it to claim the next.
                let o = OutcomeChange {
                    request_id: r.id,
                    operator_id: op,
                    actor: "op",
                    outcome: "resolved",
                    topic: Some("grades"),
                    note: None,
                    now,
                    next: OutcomeNext::Close {
                        outcome: "resolved".into(),
                        missed: false,
                    },
                    priority: &p,
                };
                store.record_outcome(&o).await.unwrap();
            }
            got
        }));
    }
    let mut all = Vec::new();
    let mut busy = 0;
    for t in tasks {
        let got = t.await.unwrap();
        busy += usize::from(!got.is_empty());
        all.extend(got);
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 1000, "every request claimed");
    assert_eq!(unique.len(), 1000, "no request claimed twice");
    assert!(busy >= 2, "claims were spread over claimers: {busy}");
    other.close().await;
}

/// Everybody claims at the same instant (on PostgreSQL the claims go to the database together):
/// the claims take exactly the top of the list, one per operator; a double click gets the held
/// request back; operators beyond the due requests get nothing.
async fn a_burst_of_claims_takes_the_top_of_the_list(db: &TestDb) {
    let s = &db.store;
    let mut ops = Vec::new();
    for i in 0..16 {
        ops.push(operator(s, &format!("burst{i:02}")).await);
    }
    for i in 0..40 {
        let work_ms = i64::from((i * 7) % 40) * 1000;
        voicemail(
            s,
            &format!("CB{i}"),
            &format!("+7916{i:07}"),
            None,
            t0(),
            work_ms,
        )
        .await;
    }
    let list = s.list_callbacks(ListScope::Active, 40, 0).await.unwrap();
    let order: Vec<i64> = list.iter().map(|r| r.id).collect();
    let now = t0() + TimeDelta::minutes(1);
    let burst = |ops: Vec<i64>| {
        let tasks: Vec<_> = ops
            .into_iter()
            .map(|op| {
                let s = s.clone();
                tokio::spawn(async move {
                    let c = s.claim_callback(op, "op", now, TimeDelta::minutes(15));
                    (op, c.await.unwrap())
                })
            })
            .collect();
        async move {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        }
    };
    // The sixteen at once, and the first operator twice.
    let mut new = HashMap::new();
    let mut held = Vec::new();
    for (op, c) in burst(ops.iter().copied().chain([ops[0]]).collect()).await {
        match c {
            Some(Claimed::New(r)) => {
                assert_eq!(r.claimed_by, Some(op));
                assert!(new.insert(op, r.id).is_none(), "one new claim per operator");
            }
            Some(Claimed::Held(r)) => held.push((op, r.id)),
            None => panic!("operator {op} got nothing with 40 requests due"),
        }
    }
    let got: HashSet<i64> = new.values().copied().collect();
    let top: HashSet<i64> = order[..16].iter().copied().collect();
    assert_eq!(
        got, top,
        "the sixteen claims took the top sixteen of the list"
    );
    assert_eq!(
        held,
        vec![(ops[0], new[&ops[0]])],
        "the double click got its claim back"
    );
    // Thirty more operators for the twenty-four left: six hear that nothing is due.
    let mut more = Vec::new();
    for i in 0..30 {
        more.push(operator(s, &format!("late{i:02}")).await);
    }
    let results = burst(more).await;
    let claimed: HashSet<i64> = results
        .iter()
        .filter_map(|(_, c)| match c {
            Some(Claimed::New(r)) => Some(r.id),
            Some(Claimed::Held(r)) => panic!("nobody held anything: {r:?}"),
            None => None,
        })
        .collect();
    let rest: HashSet<i64> = order[16..].iter().copied().collect();
    assert_eq!(claimed, rest, "the other twenty-four, each once");
    assert_eq!(results.iter().filter(|(_, c)| c.is_none()).count(), 6);
}

async fn dial_attempts_are_idempotent(db: &TestDb) {
    let s = &db.store;
    let op = operator(s, "ivanova").await;
    let other = operator(s, "petrov").await;
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let id = a.request_id();
    let wait = TimeDelta::minutes(2);
    // Not claimed: no dial.
    assert!(matches!(
        s.begin_dial(id, op, "k1", t0(), wait).await.unwrap(),
        DialStart::NotClaimed
    ));
    s.claim_callback(op, "ivanova", t0(), TimeDelta::minutes(15))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        s.begin_dial(id, other, "k0", t0(), wait).await.unwrap(),
        DialStart::NotClaimed
    ));
    let DialStart::Started(att) = s.begin_dial(id, op, "k1", t0(), wait).await.unwrap() else {
        panic!("a new attempt")
    };
    // The same click again (a retried request): the same attempt.
    let DialStart::Replay(same) = s.begin_dial(id, op, "k1", t0(), wait).await.unwrap() else {
        panic!("a replay")
    };
    assert_eq!(same.id, att.id);
    // A second click while the first is still dialing.
    let DialStart::InProgress(busy) = s.begin_dial(id, op, "k2", t0(), wait).await.unwrap() else {
        panic!("in progress")
    };
    assert_eq!(busy.id, att.id);
    let done = s
        .finish_dial(att.id, "ivanova", Ok("CA-out-1"), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.provider_call_id.as_deref(), Some("CA-out-1"));
    let st = s
        .dial_status("CA-out-1", "in-progress", false, t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (st.call_status.as_deref(), st.ended_at),
        (Some("in-progress"), None)
    );
    let later = t0() + TimeDelta::minutes(4);
    let st = s
        .dial_status("CA-out-1", "completed", true, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.ended_at, Some(later));
    assert!(
        s.dial_status("CA-unknown", "completed", true, later)
            .await
            .unwrap()
            .is_none()
    );
    // After the call ended a new click dials again; a provider error ends that attempt.
    let DialStart::Started(second) = s.begin_dial(id, op, "k3", later, wait).await.unwrap() else {
        panic!("a second attempt")
    };
    let failed = s
        .finish_dial(second.id, "ivanova", Err("HTTP 400 (21211)"), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.error.as_deref(), Some("HTTP 400 (21211)"));
    assert!(matches!(
        s.begin_dial(id, op, "k4", later, wait).await.unwrap(),
        DialStart::Started(_)
    ));
    assert_eq!(s.attempts_of(id).await.unwrap().len(), 3);
    let actions: Vec<String> = s
        .callback_history(id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(actions, ["created", "claimed", "dialed", "dial_failed"]);
    // Handle time: dial to outcome of dialed attempts only.
    let p = prio();
    let o = OutcomeChange {
        request_id: id,
        operator_id: op,
        actor: "ivanova",
        outcome: "resolved",
        topic: Some("grades"),
        note: Some("объяснили, как выставить итоговые"),
        now: later + TimeDelta::minutes(5),
        next: OutcomeNext::Close {
            outcome: "resolved".into(),
            missed: false,
        },
        priority: &p,
    };
    s.record_outcome(&o).await.unwrap();
    let (avg, n) = s.handle_time(200).await.unwrap();
    assert_eq!((avg, n), (None, 0), "the last attempt was never dialed");
}

async fn outcomes_close_or_reopen(db: &TestDb) {
    let s = &db.store;
    let op = operator(s, "ivanova").await;
    let lease = TimeDelta::minutes(15);
    let p = prio();
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let id = a.request_id();
    let claim = || async {
        s.claim_callback(op, "ivanova", t0(), lease)
            .await
            .unwrap()
            .unwrap()
    };
    claim().await;
    let DialStart::Started(att) = s
        .begin_dial(id, op, "k1", t0(), TimeDelta::minutes(2))
        .await
        .unwrap()
    else {
        panic!()
    };
    s.finish_dial(att.id, "ivanova", Ok("CA-out"), t0())
        .await
        .unwrap();
    let retry = t0() + TimeDelta::minutes(30);
    let mut o = OutcomeChange {
        request_id: id,
        operator_id: op,
        actor: "ivanova",
        outcome: "no_answer",
        topic: None,
        note: None,
        now: t0() + TimeDelta::minutes(3),
        next: OutcomeNext::Reopen {
            due: retry,
            deadline: None,
            missed: true,
            follow_up: false,
        },
        priority: &p,
    };
    let r = s.record_outcome(&o).await.unwrap();
    assert_eq!(
        (r.state.as_str(), r.attempts, r.misses, r.due_at),
        ("open", 1, 1, retry)
    );
    assert_eq!(
        (r.claimed_by, r.outcome.as_deref()),
        (None, Some("no_answer"))
    );
    // Twice: the operator no longer holds it.
    assert!(matches!(
        s.record_outcome(&o).await,
        Err(StoreError::Conflict(_))
    ));
    let (avg, n) = s.handle_time(200).await.unwrap();
    assert_eq!((avg, n), (Some(TimeDelta::minutes(3)), 1));
    // Not due until the retry time.
    assert!(
        s.claim_callback(op, "ivanova", t0(), lease)
            .await
            .unwrap()
            .is_none()
    );
    s.claim_callback(op, "ivanova", retry, lease)
        .await
        .unwrap()
        .unwrap();
    // A follow-up moves due and deadline.
    let at = t0() + TimeDelta::days(1);
    o.outcome = "follow_up";
    o.topic = Some("timetable");
    o.now = retry;
    o.next = OutcomeNext::Reopen {
        due: at,
        deadline: Some((at, 5_000)),
        missed: false,
        follow_up: true,
    };
    let r = s.record_outcome(&o).await.unwrap();
    assert_eq!(
        (
            r.due_at,
            r.deadline,
            r.deadline_work_ms,
            r.follow_up,
            r.misses
        ),
        (at, at, 5_000, true, 1)
    );
    assert_eq!(r.rank_ms, p.rank(5_000, false, 0));
    assert_eq!(r.topic.as_deref(), Some("timetable"));
    s.claim_callback(op, "ivanova", at, lease)
        .await
        .unwrap()
        .unwrap();
    o.outcome = "rejected_unclear";
    o.note = Some("вопрос не понятен");
    o.now = at;
    o.next = OutcomeNext::Close {
        outcome: "rejected_unclear".into(),
        missed: false,
    };
    let r = s.record_outcome(&o).await.unwrap();
    assert_eq!(
        (
            r.state.as_str(),
            r.outcome.as_deref(),
            r.closed_at,
            r.attempts
        ),
        ("closed", Some("rejected_unclear"), Some(at), 3)
    );
    assert_eq!(r.note.as_deref(), Some("вопрос не понятен"));
    assert_eq!(s.active_callback_count().await.unwrap(), 0);
    let closed = s.list_callbacks(ListScope::Closed, 10, 0).await.unwrap();
    assert_eq!(closed.len(), 1);
    // A new voicemail from the same number after closing: a new request.
    let (_, b) = voicemail(s, "CA2", "+79160000001", None, at, 9_000).await;
    assert!(matches!(b, Attached::Created(n) if n != id));
    let outcomes: Vec<Option<String>> = s
        .attempts_of(id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            Some("no_answer".into()),
            Some("follow_up".into()),
            Some("rejected_unclear".into())
        ]
    );
    let actions: Vec<String> = s
        .callback_history(id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(
        actions,
        [
            "created", "claimed", "dialed", "outcome", "claimed", "outcome", "claimed", "outcome"
        ]
    );
}

async fn one_claim_per_operator(db: &TestDb) {
    let s = &db.store;
    let other = db.another_instance().await;
    let (ivanova, petrov) = (operator(s, "ivanova").await, operator(s, "petrov").await);
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let (_, b) = voicemail(s, "CA2", "+79160000002", None, t0(), 2_000).await;
    let lease = TimeDelta::minutes(15);
    s.claim_callback(ivanova, "ivanova", t0(), lease)
        .await
        .unwrap();
    // A second claim a minute later: the request she holds, unchanged (no new history).
    let again = s
        .claim_callback(ivanova, "ivanova", t0() + TimeDelta::minutes(1), lease)
        .await
        .unwrap()
        .unwrap();
    let Claimed::Held(held) = again else {
        panic!("the held request: {again:?}")
    };
    assert_eq!(held.id, a.request_id());
    assert_eq!(held.lease_until, Some(t0() + lease));
    let claimed: Vec<(i64, Option<i64>)> = s
        .list_callbacks(ListScope::Active, 10, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.state == "claimed")
        .map(|r| (r.id, r.claimed_by))
        .collect();
    assert_eq!(claimed, [(a.request_id(), Some(ivanova))], "one claim each");
    let h = s.callback_history(a.request_id()).await.unwrap();
    assert_eq!(h.len(), 2, "created, claimed: {h:?}");
    // The other request is still there for a colleague.
    let got = s
        .claim_callback(petrov, "petrov", t0(), lease)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(&got, Claimed::New(r) if r.id == b.request_id()));
    // Eight clicks of one operator at once over two instances: one claim, the others return it.
    let (_, c) = voicemail(s, "CA3", "+79160000003", None, t0(), 3_000).await;
    let (_, _d) = voicemail(s, "CA4", "+79160000004", None, t0(), 4_000).await;
    let sidorov = operator(s, "sidorov").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 { s.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .claim_callback(sidorov, "sidorov", t0(), lease)
                .await
                .unwrap()
                .unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        let got = t.await.unwrap();
        new += usize::from(matches!(got, Claimed::New(_)));
        assert_eq!(got.request().id, c.request_id(), "{got:?}");
    }
    assert_eq!(new, 1, "exactly one of the clicks claimed");
    other.close().await;
}

async fn release_by_holder_or_supervisor(db: &TestDb) {
    let s = &db.store;
    let (ivanova, petrov) = (operator(s, "ivanova").await, operator(s, "petrov").await);
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let (_, b) = voicemail(s, "CA2", "+79160000002", None, t0(), 2_000).await;
    let (a, b) = (a.request_id(), b.request_id());
    let lease = TimeDelta::minutes(15);
    let now = t0() + TimeDelta::minutes(2);
    s.claim_callback(ivanova, "ivanova", t0(), lease)
        .await
        .unwrap();
    // Not hers to release, not claimed, unknown.
    assert!(matches!(
        s.release_callback(a, Some(petrov), "petrov", now).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.release_callback(b, Some(petrov), "petrov", now).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.release_callback(b, None, "chief", now).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.release_callback(9_999, Some(ivanova), "ivanova", now)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let r = s
        .release_callback(a, Some(ivanova), "ivanova", now)
        .await
        .unwrap();
    assert_eq!(
        (r.state.as_str(), r.claimed_by, r.lease_until),
        ("open", None, None)
    );
    assert!(matches!(
        s.release_callback(a, Some(ivanova), "ivanova", now).await,
        Err(StoreError::Conflict(_))
    ));
    // Back at the top of the list: Petrov gets it; a supervisor releases it for him.
    let got = s
        .claim_callback(petrov, "petrov", now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.request().id, a);
    s.release_callback(a, None, "chief", now).await.unwrap();
    let h: Vec<(String, String)> = s
        .callback_history(a)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.actor, h.action))
        .collect();
    let h: Vec<(&str, &str)> = h.iter().map(|(x, y)| (x.as_str(), y.as_str())).collect();
    assert_eq!(
        h,
        [
            ("system", "created"),
            ("ivanova", "claimed"),
            ("ivanova", "released"),
            ("petrov", "claimed"),
            ("chief", "released"),
        ]
    );
}

/// The request's state and holder.
async fn holder(s: &Arc<dyn Store>, id: i64) -> (String, Option<i64>, Option<DateTime<Utc>>) {
    let r = s.callback_request(id).await.unwrap().unwrap();
    (r.state, r.claimed_by, r.lease_until)
}

async fn the_claim_holds_while_the_holder_talks(db: &TestDb) {
    let s = &db.store;
    let (ivanova, petrov) = (operator(s, "ivanova").await, operator(s, "petrov").await);
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let id = a.request_id();
    let lease = TimeDelta::minutes(15);
    let min = TimeDelta::minutes;
    s.claim_callback(ivanova, "ivanova", t0(), lease)
        .await
        .unwrap();
    // The click extends the lease; so does every status of the call.
    let DialStart::Started(att) = s
        .begin_dial(id, ivanova, "k1", t0() + min(1), min(2))
        .await
        .unwrap()
    else {
        panic!("a new attempt")
    };
    assert_eq!(holder(s, id).await.2, Some(t0() + min(16)));
    s.finish_dial(att.id, "ivanova", Ok("CA-out-1"), t0() + min(1))
        .await
        .unwrap();
    s.dial_status("CA-out-1", "in-progress", false, t0() + min(2))
        .await
        .unwrap();
    assert_eq!(holder(s, id).await.2, Some(t0() + min(17)));
    // A long conversation: the lease ran out, but the sweeper and other claimers leave it alone.
    let talking = t0() + min(40);
    assert_eq!(s.release_expired_callbacks(talking).await.unwrap(), 0);
    assert!(
        s.claim_callback(petrov, "petrov", talking, lease)
            .await
            .unwrap()
            .is_none()
    );
    // A second click while the call goes on.
    assert!(matches!(
        s.begin_dial(id, ivanova, "k2", talking, min(2))
            .await
            .unwrap(),
        DialStart::InProgress(_)
    ));
    // The call ends at 0:50: the lease runs from then, and the outcome at 0:55 is hers.
    s.dial_status("CA-out-1", "completed", true, t0() + min(50))
        .await
        .unwrap();
    assert_eq!(
        holder(s, id).await,
        ("claimed".into(), Some(ivanova), Some(t0() + min(65)))
    );
    assert_eq!(
        s.release_expired_callbacks(t0() + min(55)).await.unwrap(),
        0
    );
    let p = prio();
    let o = OutcomeChange {
        request_id: id,
        operator_id: ivanova,
        actor: "ivanova",
        outcome: "resolved",
        topic: Some("grades"),
        note: None,
        now: t0() + min(55),
        next: OutcomeNext::Close {
            outcome: "resolved".into(),
            missed: false,
        },
        priority: &p,
    };
    let r = s.record_outcome(&o).await.unwrap();
    assert_eq!(r.state, "closed");
}

async fn calls_that_never_connect_do_not_hold_the_claim(db: &TestDb) {
    let s = &db.store;
    let ivanova = operator(s, "ivanova").await;
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let id = a.request_id();
    let min = TimeDelta::minutes;
    let lease = min(15);
    // Ringing only, the final status lost: released when the lease runs out.
    s.claim_callback(ivanova, "ivanova", t0(), lease)
        .await
        .unwrap();
    let DialStart::Started(att) = s.begin_dial(id, ivanova, "k1", t0(), min(2)).await.unwrap()
    else {
        panic!("a new attempt")
    };
    s.finish_dial(att.id, "ivanova", Ok("CA-out-1"), t0())
        .await
        .unwrap();
    s.dial_status("CA-out-1", "ringing", false, t0())
        .await
        .unwrap();
    assert_eq!(
        s.release_expired_callbacks(t0() + min(16)).await.unwrap(),
        1
    );
    // Connected, the final status lost: released once the longest call is over.
    let later = t0() + min(20);
    s.claim_callback(ivanova, "ivanova", later, lease)
        .await
        .unwrap();
    assert_eq!(holder(s, id).await.1, Some(ivanova));
    let DialStart::Started(att) = s
        .begin_dial(id, ivanova, "k2", later, min(2))
        .await
        .unwrap()
    else {
        panic!("a new attempt")
    };
    s.finish_dial(att.id, "ivanova", Ok("CA-out-2"), later)
        .await
        .unwrap();
    s.dial_status("CA-out-2", "in-progress", false, later)
        .await
        .unwrap();
    let longest = TimeDelta::milliseconds(perezvon::store::callbacks::LONGEST_CALL_MS);
    assert_eq!(
        s.release_expired_callbacks(later + longest - min(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.release_expired_callbacks(later + longest).await.unwrap(),
        1
    );
}

async fn idempotency_keys_belong_to_request_and_operator(db: &TestDb) {
    let s = &db.store;
    let (ivanova, petrov) = (operator(s, "ivanova").await, operator(s, "petrov").await);
    let (_, a) = voicemail(s, "CA1", "+79160000001", None, t0(), 1_000).await;
    let (_, b) = voicemail(s, "CA2", "+79160000002", None, t0(), 2_000).await;
    let (a, b) = (a.request_id(), b.request_id());
    let (lease, wait) = (TimeDelta::minutes(15), TimeDelta::minutes(2));
    s.claim_callback(ivanova, "ivanova", t0(), lease)
        .await
        .unwrap();
    s.claim_callback(petrov, "petrov", t0(), lease)
        .await
        .unwrap();
    // Both operators' browsers happen to send the same key, each on their own request.
    let DialStart::Started(first) = s
        .begin_dial(a, ivanova, "click-1", t0(), wait)
        .await
        .unwrap()
    else {
        panic!("a new attempt")
    };
    let second = s
        .begin_dial(b, petrov, "click-1", t0(), wait)
        .await
        .unwrap();
    let DialStart::Started(second) = second else {
        panic!("another request's key must not return its attempt: {second:?}")
    };
    assert_ne!(first.id, second.id);
    assert_eq!((first.request_id, second.request_id), (a, b));
    // The same key of the same operator on the same request is a replay.
    let DialStart::Replay(same) = s
        .begin_dial(a, ivanova, "click-1", t0(), wait)
        .await
        .unwrap()
    else {
        panic!("a replay")
    };
    assert_eq!(same.id, first.id);
    // Another operator's key on Ivanova's request is refused as before (not hers to dial), never
    // a replay of her attempt.
    assert!(matches!(
        s.begin_dial(a, petrov, "click-1", t0(), wait)
            .await
            .unwrap(),
        DialStart::NotClaimed
    ));
}
