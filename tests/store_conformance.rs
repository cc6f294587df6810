//! The storage conformance suite: every behaviour of the `Store` trait, run on SQLite always and on
//! PostgreSQL when `PEREZVON_TEST_POSTGRES_URL` is set, each test on a fresh database.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::store::{
    JobState, NewAuditEntry, NewCallEvent, NewJob, NewOperator, NewUser, Store, StoreError,
};
use support::TestDb;

on_both_backends!(
    migrations_are_current,
    connections_are_opened_ahead,
    users_and_conflicts,
    tokens_expire_and_revoke,
    token_changes_reach_every_instance,
    operators_and_presence,
    call_events_are_idempotent,
    jobs_lifecycle,
    jobs_lease_expiry_and_reap,
    jobs_claimed_exactly_once_by_two_instances,
    audit_log_newest_first,
    operator_reservations_and_autopause,
    hold_queue_claims,
    voicemails_and_the_event_outbox,
    blocklist_attempts_and_limits,
);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap()
}

async fn user(store: &Arc<dyn Store>, login: &str, role: Role) -> perezvon::store::User {
    let u = NewUser {
        login: login.into(),
        display_name: format!("Name {login}"),
        role,
        password_hash: "h".into(),
    };
    store.create_user(&u, t0()).await.unwrap()
}

async fn migrations_are_current(db: &TestDb) {
    let h = db.store.health().await.unwrap();
    assert!(h.migrations_current, "{h:?}");
    assert!(h.expected_version >= 1);
    assert_eq!(h.applied_version, h.expected_version);
    db.store.migrate().await.unwrap();
    assert!(db.store.health().await.unwrap().migrations_current);
}

/// A fresh store has one connection open (the writer, or the pool's first); warming it up opens
/// what a burst needs (PostgreSQL: the whole pool, 8 in tests; SQLite: the 4 readers beside the
/// writer) before the service takes requests. PostgreSQL's connections run the webhook path on a
/// synthetic call in a transaction they roll back: nothing of it is left.
async fn connections_are_opened_ahead(db: &TestDb) {
    let open = db.store.warm_up().await.unwrap();
    let want = match db.store.backend() {
        "sqlite" => 5,
        _ => 8,
    };
    assert!(open >= want, "{open} connections open, want {want}");
    for table in ["calls", "call_events", "voicemails", "call_facts"] {
        assert_eq!(
            db.count_rows(table).await,
            0,
            "rows left in {table} by the warm-up"
        );
    }
    // A second warm-up (a restart) finds the connections open and leaves nothing either.
    assert!(db.store.warm_up().await.unwrap() >= want);
    assert_eq!(db.count_rows("calls").await, 0);
}

async fn users_and_conflicts(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "ivanova", Role::Operator).await;
    assert_eq!(u.login, "ivanova");
    assert_eq!(u.role, Role::Operator);
    assert_eq!(u.created_at, t0());
    assert!(!u.disabled);
    let again = NewUser {
        login: "ivanova".into(),
        display_name: String::new(),
        role: Role::Admin,
        password_hash: "x".into(),
    };
    match s.create_user(&again, t0()).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("ivanova"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let found = s.user_by_login("ivanova").await.unwrap().unwrap();
    assert_eq!(found.id, u.id);
    assert_eq!(found.display_name, "Name ivanova");
    assert!(s.user_by_login("petrov").await.unwrap().is_none());
    assert!(s.set_password("ivanova", "new-hash").await.unwrap());
    assert_eq!(
        s.user_by_login("ivanova")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    assert!(!s.set_password("petrov", "x").await.unwrap());
}

async fn tokens_expire_and_revoke(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "sidorov", Role::Supervisor).await;
    s.create_token(u.id, "hash-forever", "laptop", None, t0())
        .await
        .unwrap();
    s.create_token(u.id, "hash-day", "", Some(t0() + TimeDelta::days(1)), t0())
        .await
        .unwrap();
    let by = s
        .user_by_token("hash-forever", t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((by.id, by.role), (u.id, Role::Supervisor));
    assert!(
        s.user_by_token("hash-day", t0() + TimeDelta::hours(23))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.user_by_token("hash-day", t0() + TimeDelta::days(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.user_by_token("no-such-hash", t0())
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.create_token(u.id, "hash-forever", "", None, t0()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.revoke_tokens("sidorov", t0()).await.unwrap(), 2);
    assert!(
        s.user_by_token("hash-forever", t0())
            .await
            .unwrap()
            .is_none()
    );
}

/// A change to a user or token through this store is seen at once by this store (PostgreSQL
/// remembers tokens briefly), and by another instance within the memory's limit.
async fn token_changes_reach_every_instance(db: &TestDb) {
    let s = &db.store;
    let other = db.another_instance().await;
    let u = user(s, "orlova", Role::Operator).await;
    let one = s
        .create_token(u.id, "hash-one", "", None, t0())
        .await
        .unwrap();
    s.create_token(u.id, "hash-two", "", None, t0())
        .await
        .unwrap();
    let role = |st: Arc<dyn Store>, hash: &'static str| async move {
        st.user_by_token(hash, t0()).await.unwrap().map(|u| u.role)
    };
    assert_eq!(role(s.clone(), "hash-one").await, Some(Role::Operator));
    assert_eq!(role(other.clone(), "hash-two").await, Some(Role::Operator));
    assert!(s.set_role("orlova", Role::Supervisor).await.unwrap());
    assert_eq!(role(s.clone(), "hash-one").await, Some(Role::Supervisor));
    assert!(s.revoke_token(one, t0()).await.unwrap());
    assert_eq!(
        role(s.clone(), "hash-one").await,
        None,
        "revoked here: refused here at once"
    );
    assert_eq!(role(s.clone(), "hash-two").await, Some(Role::Supervisor));
    // Disabled through the other instance: refused there at once, here within the limit.
    assert!(other.set_disabled("orlova", true, t0()).await.unwrap());
    assert_eq!(role(other.clone(), "hash-two").await, None);
    tokio::time::sleep(perezvon::store::token_cache::TTL).await;
    assert_eq!(
        role(s.clone(), "hash-two").await,
        None,
        "refused within the limit"
    );
    other.close().await;
}

async fn operators_and_presence(db: &TestDb) {
    let s = &db.store;
    let u = user(s, "op1", Role::Operator).await;
    let new = NewOperator {
        user_id: u.id,
        name: "Мария".into(),
        contact_kind: ContactKind::Sip,
        contact: "sip:op1@pbx".into(),
    };
    let op = s.create_operator(&new, t0()).await.unwrap();
    assert_eq!(
        (op.login.as_str(), op.presence, op.idle_since),
        ("op1", Presence::Offline, None)
    );
    assert_eq!(op.contact_kind, ContactKind::Sip);
    assert!(matches!(
        s.create_operator(&new, t0()).await,
        Err(StoreError::Conflict(_))
    ));
    let ghost = NewOperator {
        user_id: 9_999,
        ..new.clone()
    };
    assert!(matches!(
        s.create_operator(&ghost, t0()).await,
        Err(StoreError::NotFound(_))
    ));

    let t1 = t0() + TimeDelta::minutes(5);
    let op = s
        .set_presence(op.id, Presence::Available, t1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (op.presence, op.presence_since, op.idle_since),
        (Presence::Available, t1, Some(t1))
    );
    // Setting available again keeps the original idle start (longest-idle order is stable).
    let op = s
        .set_presence(op.id, Presence::Available, t1 + TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.idle_since, Some(t1));
    let op = s
        .set_presence(op.id, Presence::OnCall, t1 + TimeDelta::minutes(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((op.presence, op.idle_since), (Presence::OnCall, None));
    let t3 = t1 + TimeDelta::minutes(9);
    let op = s
        .set_presence(op.id, Presence::Available, t3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.idle_since, Some(t3));
    assert!(
        s.set_presence(12_345, Presence::Break, t3)
            .await
            .unwrap()
            .is_none()
    );
    let all = s.operators().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        s.operator_by_login("op1").await.unwrap().unwrap().presence,
        Presence::Available
    );
    assert!(s.operator_by_login("nobody").await.unwrap().is_none());
}

fn event(call: &str, key: &str, state: &str) -> NewCallEvent {
    NewCallEvent {
        provider: "twilio".into(),
        provider_call_id: call.into(),
        from_number: Some("+79161234567".into()),
        to_number: Some("+74950000000".into()),
        event_key: key.into(),
        kind: key.split(':').next().unwrap().into(),
        sequence: None,
        payload: format!("{{\"key\":\"{key}\"}}"),
        state: state.into(),
        operator_id: None,
        tried: Vec::new(),
        reply: None,
        jobs: Vec::new(),
    }
}

async fn call_events_are_idempotent(db: &TestDb) {
    let s = &db.store;
    let first = s
        .record_call_event(&event("CA1", "incoming:1", "incoming"), t0())
        .await
        .unwrap();
    assert!(first.inserted);
    assert_eq!(first.call.state, "incoming");
    s.set_event_reply(first.event.id, "<Response/>")
        .await
        .unwrap();
    let t1 = t0() + TimeDelta::seconds(3);
    let again = s
        .record_call_event(&event("CA1", "incoming:1", "somewhere-else"), t1)
        .await
        .unwrap();
    assert!(!again.inserted);
    assert_eq!(again.event.id, first.event.id);
    assert_eq!(again.event.reply.as_deref(), Some("<Response/>"));
    assert_eq!(
        again.call.state, "incoming",
        "a re-delivery must not change the call"
    );
    let next = s
        .record_call_event(&event("CA1", "status:ringing", "ringing"), t1)
        .await
        .unwrap();
    assert!(next.inserted);
    assert_eq!(
        (next.call.id, next.call.state.as_str()),
        (first.call.id, "ringing")
    );
    assert_eq!(next.call.updated_at, t1);
    s.record_call_event(
        &event("CA2", "incoming:1", "incoming"),
        t1 + TimeDelta::seconds(1),
    )
    .await
    .unwrap();
    let calls = s.recent_calls(10).await.unwrap();
    assert_eq!(
        calls
            .iter()
            .map(|c| c.provider_call_id.as_str())
            .collect::<Vec<_>>(),
        ["CA2", "CA1"]
    );
    let evs = s.call_events(first.call.id).await.unwrap();
    assert_eq!(
        evs.iter().map(|e| e.event_key.as_str()).collect::<Vec<_>>(),
        ["incoming:1", "status:ringing"]
    );
    assert!(matches!(
        s.set_event_reply(987_654, "x").await,
        Err(StoreError::NotFound(_))
    ));
}

fn job(kind: &str, dedup: Option<&str>, run_at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: "{}".into(),
        dedup_key: dedup.map(Into::into),
        run_at,
        max_attempts: 3,
    }
}

async fn jobs_lifecycle(db: &TestDb) {
    let s = &db.store;
    let lease = TimeDelta::minutes(5);
    let later = t0() + TimeDelta::minutes(10);
    let a = s
        .enqueue_job(&job("download", Some("rec:RE1"), t0()), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.enqueue_job(&job("download", Some("rec:RE1"), t0()), t0())
            .await
            .unwrap(),
        None
    );
    let b = s
        .enqueue_job(&job("sms", None, later), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.next_job_due().await.unwrap(), Some(t0()));

    let got = s.claim_job("w1", t0(), lease).await.unwrap().unwrap();
    assert_eq!((got.id, got.state, got.attempts), (a, JobState::Running, 1));
    assert_eq!(got.lease_until, Some(t0() + lease));
    assert!(
        s.claim_job("w2", t0(), lease).await.unwrap().is_none(),
        "b is not due yet, a is leased"
    );
    assert!(
        !s.complete_job(a, "w2", t0()).await.unwrap(),
        "only the holder completes"
    );
    let retry_at = t0() + TimeDelta::minutes(1);
    assert!(
        s.retry_job(a, "w1", retry_at, "HTTP 503", t0())
            .await
            .unwrap()
    );
    let j = s.job(a).await.unwrap().unwrap();
    assert_eq!(
        (j.state, j.run_at, j.last_error.as_deref(), j.leased_by),
        (JobState::Queued, retry_at, Some("HTTP 503"), None)
    );

    let got = s.claim_job("w1", retry_at, lease).await.unwrap().unwrap();
    assert_eq!((got.id, got.attempts), (a, 2));
    assert!(s.complete_job(a, "w1", retry_at).await.unwrap());
    assert!(
        !s.complete_job(a, "w1", retry_at).await.unwrap(),
        "done is final"
    );
    assert_eq!(s.job(a).await.unwrap().unwrap().state, JobState::Done);
    assert_eq!(s.next_job_due().await.unwrap(), Some(later));

    let got = s.claim_job("w1", later, lease).await.unwrap().unwrap();
    assert_eq!(got.id, b);
    assert!(s.fail_job(b, "w1", "HTTP 404", later).await.unwrap());
    let j = s.job(b).await.unwrap().unwrap();
    assert_eq!(
        (j.state, j.last_error.as_deref()),
        (JobState::Failed, Some("HTTP 404"))
    );
    assert!(
        s.claim_job("w1", later + TimeDelta::days(1), lease)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.next_job_due().await.unwrap(), None);
}

async fn jobs_lease_expiry_and_reap(db: &TestDb) {
    let s = &db.store;
    let lease = TimeDelta::minutes(5);
    let mut j = job("download", None, t0());
    j.max_attempts = 2;
    let id = s.enqueue_job(&j, t0()).await.unwrap().unwrap();
    s.claim_job("dead-worker", t0(), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.next_job_due().await.unwrap(), Some(t0() + lease));
    assert!(
        s.claim_job("w2", t0() + lease - TimeDelta::milliseconds(1), lease)
            .await
            .unwrap()
            .is_none()
    );
    // A live worker renews its lease; only the holder can.
    assert!(
        !s.extend_job_lease(id, "w2", t0() + lease * 2, t0())
            .await
            .unwrap()
    );
    assert!(
        s.extend_job_lease(id, "dead-worker", t0() + lease, t0())
            .await
            .unwrap()
    );
    // The lease ran out: the job resumes on another worker, and the dead one can no longer finish it.
    let t1 = t0() + lease + TimeDelta::seconds(1);
    let again = s.claim_job("w2", t1, lease).await.unwrap().unwrap();
    assert_eq!(
        (again.id, again.attempts, again.leased_by.as_deref()),
        (id, 2, Some("w2"))
    );
    assert!(!s.complete_job(id, "dead-worker", t1).await.unwrap());
    // w2 dies too; no attempts left, so the reaper fails it instead of running it forever.
    let t2 = t1 + lease + TimeDelta::seconds(1);
    assert!(s.claim_job("w3", t2, lease).await.unwrap().is_none());
    assert_eq!(s.reap_jobs(t2).await.unwrap(), 1);
    let j = s.job(id).await.unwrap().unwrap();
    assert_eq!(j.state, JobState::Failed);
    assert!(j.last_error.unwrap().contains("lease expired"));
}

async fn jobs_claimed_exactly_once_by_two_instances(db: &TestDb) {
    const JOBS: usize = 300;
    let s = &db.store;
    for i in 0..JOBS {
        s.enqueue_job(&job("k", Some(&format!("j{i}")), t0()), t0())
            .await
            .unwrap()
            .unwrap();
    }
    let second = db.another_instance().await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = if w % 2 == 0 {
            s.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut got = Vec::new();
            while let Some(j) = store
                .claim_job(&name, t0(), TimeDelta::minutes(5))
                .await
                .unwrap()
            {
                assert!(store.complete_job(j.id, &name, t0()).await.unwrap());
                got.push(j.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    let mut busy_workers = 0;
    for t in tasks {
        let got = t.await.unwrap();
        busy_workers += usize::from(!got.is_empty());
        all.extend(got);
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), JOBS, "every job claimed once, none twice");
    assert_eq!(unique.len(), JOBS);
    assert!(busy_workers >= 2, "claims were spread over workers");
    second.close().await;
}

async fn audit_log_newest_first(db: &TestDb) {
    let s = &db.store;
    for (i, action) in ["token.create", "operator.presence", "voicemail.audio"]
        .iter()
        .enumerate()
    {
        let e = NewAuditEntry {
            actor: "ivanova".into(),
            action: (*action).into(),
            subject: format!("thing:{i}"),
            detail: "{}".into(),
            request_id: Some(format!("req-{i}")),
        };
        s.audit(&e, t0() + TimeDelta::seconds(i as i64))
            .await
            .unwrap();
    }
    let got = s.recent_audit(2).await.unwrap();
    assert_eq!(
        got.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["voicemail.audio", "operator.presence"]
    );
    assert_eq!(got[0].at, t0() + TimeDelta::seconds(2));
    assert_eq!(got[0].request_id.as_deref(), Some("req-2"));
}

async fn operator(db: &TestDb, login: &str) -> i64 {
    let u = user(&db.store, login, Role::Operator).await;
    let new = NewOperator {
        user_id: u.id,
        name: login.into(),
        contact_kind: ContactKind::Phone,
        contact: "+74950000001".into(),
    };
    db.store.create_operator(&new, t0()).await.unwrap().id
}

async fn operator_reservations_and_autopause(db: &TestDb) {
    let s = &db.store;
    let op = operator(db, "op-a").await;
    let c1 = s
        .record_call_event(&event("CA1", "voice", "incoming"), t0())
        .await
        .unwrap()
        .call
        .id;
    let c2 = s
        .record_call_event(&event("CA2", "voice", "incoming"), t0())
        .await
        .unwrap()
        .call
        .id;
    let cutoff = t0() - TimeDelta::seconds(30);
    assert!(
        !s.reserve_operator(op, c1, cutoff, t0()).await.unwrap(),
        "offline operators cannot be reserved"
    );
    s.set_presence(op, Presence::Available, t0()).await.unwrap();
    assert!(s.reserve_operator(op, c1, cutoff, t0()).await.unwrap());
    assert!(
        !s.reserve_operator(op, c2, cutoff, t0()).await.unwrap(),
        "one call at a time"
    );
    let o = s.operator_by_login("op-a").await.unwrap().unwrap();
    assert_eq!(
        (o.presence, o.current_call_id),
        (Presence::OnCall, Some(c1))
    );
    assert_eq!(
        s.release_operator(op, c2, true, 3, t0()).await.unwrap(),
        None,
        "not reserved for c2"
    );
    // Three misses in a row pause the operator (autopause).
    for i in 1..=3 {
        let t = t0() + TimeDelta::minutes(i);
        if i > 1 {
            assert!(s.reserve_operator(op, c1, cutoff, t).await.unwrap());
        }
        let p = s
            .release_operator(op, c1, true, 3, t)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            p,
            if i < 3 {
                Presence::Available
            } else {
                Presence::Break
            },
            "miss {i}"
        );
    }
    let o = s.operator_by_login("op-a").await.unwrap().unwrap();
    assert_eq!((o.consecutive_misses, o.current_call_id), (3, None));
    // Back from the break: the count starts again; an answered call wraps up, then frees the operator.
    let t = t0() + TimeDelta::minutes(10);
    s.set_presence(op, Presence::Available, t).await.unwrap();
    assert_eq!(
        s.operator_by_login("op-a")
            .await
            .unwrap()
            .unwrap()
            .consecutive_misses,
        0
    );
    assert!(s.reserve_operator(op, c2, cutoff, t).await.unwrap());
    assert!(!s.wrap_up_operator(op, c1, t).await.unwrap());
    assert!(s.wrap_up_operator(op, c2, t).await.unwrap());
    assert!(
        !s.reserve_operator(
            op,
            c1,
            t - TimeDelta::seconds(30),
            t + TimeDelta::seconds(10)
        )
        .await
        .unwrap()
    );
    assert!(
        s.reserve_operator(
            op,
            c1,
            t + TimeDelta::seconds(1),
            t + TimeDelta::seconds(31)
        )
        .await
        .unwrap(),
        "wrap-up over"
    );
    s.wrap_up_operator(op, c1, t).await.unwrap();
    assert_eq!(
        s.finish_wrap_ups(t - TimeDelta::seconds(1), t)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.finish_wrap_ups(t, t + TimeDelta::seconds(30))
            .await
            .unwrap(),
        1
    );
    let o = s.operator_by_login("op-a").await.unwrap().unwrap();
    assert_eq!(
        (o.presence, o.idle_since),
        (Presence::Available, Some(t + TimeDelta::seconds(30)))
    );
}

async fn hold_queue_claims(db: &TestDb) {
    let s = &db.store;
    let op = operator(db, "op-q").await;
    for (i, sid) in ["CA-late", "CA-early"].iter().enumerate() {
        let mut ev = event(sid, "voice", "queued");
        ev.tried = vec![op];
        // CA-early joins the queue first even though it was created second.
        let at = if i == 0 {
            t0() + TimeDelta::seconds(5)
        } else {
            t0()
        };
        s.record_call_event(&ev, at).await.unwrap();
    }
    let q = s.queued_calls().await.unwrap();
    assert_eq!(
        q.iter()
            .map(|c| c.provider_call_id.as_str())
            .collect::<Vec<_>>(),
        ["CA-early", "CA-late"]
    );
    assert_eq!((q[0].queued_at, q[0].tried.clone()), (Some(t0()), vec![op]));
    assert!(s.claim_queued_call(q[0].id, op, t0()).await.unwrap());
    assert!(
        !s.claim_queued_call(q[0].id, op, t0()).await.unwrap(),
        "claimed once"
    );
    let c = s
        .call_by_provider_id("twilio", "CA-early")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.state.as_str(), c.operator_id), ("connecting", Some(op)));
    assert_eq!(s.queued_calls().await.unwrap().len(), 1);
    assert!(s.requeue_call(c.id, t0()).await.unwrap());
    assert_eq!(
        s.queued_calls().await.unwrap()[0].provider_call_id,
        "CA-early",
        "keeps its place"
    );
    let mut done = event("CA-early", "status:completed", "abandoned");
    done.reply = Some(String::new());
    let r = s
        .record_call_event(&done, t0() + TimeDelta::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        (r.call.state.as_str(), r.call.ended_at),
        ("abandoned", Some(t0() + TimeDelta::minutes(1)))
    );
    let found = s
        .find_call_event("twilio", "CA-early", "status:completed")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.reply.as_deref(), Some(""));
    assert!(
        s.find_call_event("twilio", "CA-early", "status:ringing")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.call_by_provider_id("twilio", "CA-none")
            .await
            .unwrap()
            .is_none()
    );
}

async fn voicemails_and_the_event_outbox(db: &TestDb) {
    let s = &db.store;
    let call = s
        .record_call_event(&event("CA-vm", "voice", "voicemail"), t0())
        .await
        .unwrap()
        .call;
    let vm = s
        .start_voicemail(call.id, Some("+79161234567"), t0())
        .await
        .unwrap();
    assert_eq!(
        (
            vm.callback_number.as_deref(),
            vm.number_confirmed,
            vm.audio_status.as_str()
        ),
        (Some("+79161234567"), false, "none")
    );
    let again = s
        .start_voicemail(call.id, None, t0() + TimeDelta::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        (again.id, again.received_at),
        (vm.id, t0()),
        "one voicemail per call"
    );
    s.set_voicemail_number(call.id, "+74951234567", true)
        .await
        .unwrap();
    s.set_voicemail_category(call.id, "staff").await.unwrap();
    s.flag_voicemail(call.id, "number_unconfirmed")
        .await
        .unwrap();
    s.flag_voicemail(call.id, "no_recording").await.unwrap();
    s.flag_voicemail(call.id, "number_unconfirmed")
        .await
        .unwrap();
    assert!(
        s.set_voicemail_recording(call.id, "twilio:RE1", "https://x/RE1", Some(14_000))
            .await
            .unwrap()
    );
    assert!(
        s.set_voicemail_recording(call.id, "twilio:RE1", "https://x/RE1", None)
            .await
            .unwrap(),
        "same recording again"
    );
    assert!(
        !s.set_voicemail_recording(call.id, "twilio:RE2", "https://x/RE2", None)
            .await
            .unwrap(),
        "one recording"
    );
    let vm = s.voicemail_for_call(call.id).await.unwrap().unwrap();
    assert_eq!(vm.callback_number.as_deref(), Some("+74951234567"));
    assert_eq!(vm.caller_id.as_deref(), Some("+79161234567"));
    assert!(vm.number_confirmed);
    assert_eq!(vm.caller_category.as_deref(), Some("staff"));
    assert_eq!(vm.flags, "number_unconfirmed,no_recording");
    assert_eq!(
        (
            vm.recording_key.as_deref(),
            vm.recording_duration_ms,
            vm.audio_status.as_str()
        ),
        (Some("twilio:RE1"), Some(14_000), "pending")
    );
    assert_eq!(s.voicemails(10).await.unwrap().len(), 1);

    // The outbox: a job recorded with its event exists exactly when the event does.
    let mut ev = event("CA-vm", "recording:RE1:completed", "completed");
    ev.jobs = vec![job("recording.download", Some("download:twilio:RE1"), t0())];
    assert!(s.record_call_event(&ev, t0()).await.unwrap().inserted);
    let claimed = s
        .claim_job("w", t0(), TimeDelta::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.dedup_key.as_deref(), Some("download:twilio:RE1"));
    // Re-delivered: no new event, no second job.
    assert!(!s.record_call_event(&ev, t0()).await.unwrap().inserted);
    assert!(
        s.claim_job("w", t0(), TimeDelta::minutes(1))
            .await
            .unwrap()
            .is_none()
    );
}

async fn blocklist_attempts_and_limits(db: &TestDb) {
    use perezvon::domain::blocklist::{Blocklist, CallLimits, RuleKind};
    let s = &db.store;
    assert!(s.block_rules().await.unwrap().is_empty());
    let num = s
        .add_block_rule(RuleKind::Number, "+79161234567", "спам", "boss", t0())
        .await
        .unwrap();
    let dom = s
        .add_block_rule(RuleKind::Domain, "spam.example", "", "boss", t0())
        .await
        .unwrap();
    assert_eq!(
        (num.kind, num.value.as_str(), num.reason.as_str()),
        (RuleKind::Number, "+79161234567", "спам")
    );
    assert_eq!(num.created_at, t0());
    // The same kind and value twice is a conflict; the same value of another kind is not.
    let dup = s
        .add_block_rule(RuleKind::Number, "+79161234567", "", "boss", t0())
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    s.add_block_rule(RuleKind::Prefix, "+79161234567", "", "boss", t0())
        .await
        .unwrap();
    let rules = s.block_rules().await.unwrap();
    assert_eq!(rules.len(), 3);
    let b = Blocklist::new(rules);
    assert_eq!(
        b.blocks_email("x@mail.spam.example").map(|r| r.id),
        Some(dom.id)
    );
    assert_eq!(b.blocks_number("89161234567").map(|r| r.id), Some(num.id));
    // Attempts count once per key; a removed rule counts nothing.
    let later = t0() + TimeDelta::hours(2);
    assert!(
        s.count_blocked_attempt(num.id, "twilio:CA1", t0())
            .await
            .unwrap()
    );
    assert!(
        !s.count_blocked_attempt(num.id, "twilio:CA1", t0())
            .await
            .unwrap()
    );
    assert!(
        s.count_blocked_attempt(num.id, "twilio:CA2", later)
            .await
            .unwrap()
    );
    assert!(
        s.count_blocked_attempt(dom.id, "mail:<a@b>", later)
            .await
            .unwrap()
    );
    assert!(
        !s.count_blocked_attempt(9999, "twilio:CA3", later)
            .await
            .unwrap()
    );
    let counts = s
        .blocked_attempts(t0() + TimeDelta::hours(1))
        .await
        .unwrap();
    let of = |id| {
        counts
            .iter()
            .find(|c| c.rule_id == id)
            .map(|c| (c.total, c.recent))
    };
    assert_eq!(of(num.id), Some((2, 1)));
    assert_eq!(of(dom.id), Some((1, 1)));
    let removed = s.remove_block_rule(num.id).await.unwrap();
    assert_eq!(removed.id, num.id);
    assert!(matches!(
        s.remove_block_rule(num.id).await,
        Err(StoreError::NotFound(_))
    ));
    let counts = s.blocked_attempts(t0()).await.unwrap();
    assert!(counts.iter().all(|c| c.rule_id != num.id), "{counts:?}");
    // Limits: none set, then set and changed.
    assert_eq!(s.call_limits().await.unwrap(), None);
    let l = CallLimits {
        voicemails_per_day: 2,
        calls_per_hour: 5,
    };
    s.set_call_limits(l, "boss", t0()).await.unwrap();
    s.set_call_limits(
        CallLimits {
            calls_per_hour: 6,
            ..l
        },
        "boss",
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.call_limits().await.unwrap(),
        Some(CallLimits {
            voicemails_per_day: 2,
            calls_per_hour: 6
        })
    );
    // A number's record: calls since an instant (this call excluded), voicemails since another.
    let from = "+79161230000";
    for (i, mins) in [0i64, 30, 70, 80].iter().enumerate() {
        let at = t0() + TimeDelta::minutes(*mins);
        let c = s
            .ensure_call("twilio", &format!("R{i}"), Some(from), None, at)
            .await
            .unwrap();
        if i % 2 == 0 {
            s.start_voicemail(c.id, Some(from), at).await.unwrap();
        }
    }
    s.ensure_call("twilio", "OTHER", Some("+79161239999"), None, t0())
        .await
        .unwrap();
    let now = t0() + TimeDelta::minutes(80);
    let hour_ago = now - TimeDelta::hours(1);
    assert_eq!(
        s.caller_record(from, "twilio", "R3", hour_ago, t0())
            .await
            .unwrap(),
        (2, 2)
    );
    assert_eq!(
        s.caller_record(from, "twilio", "NEW", hour_ago, t0())
            .await
            .unwrap(),
        (3, 2)
    );
    assert_eq!(
        s.caller_record(
            from,
            "twilio",
            "NEW",
            hour_ago,
            t0() + TimeDelta::minutes(1)
        )
        .await
        .unwrap(),
        (3, 1)
    );
    assert_eq!(
        s.caller_record("+79160000000", "twilio", "X", hour_ago, t0())
            .await
            .unwrap(),
        (0, 0)
    );
}
