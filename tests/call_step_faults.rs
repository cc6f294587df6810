//! Crash tests for the call step: a failure injected by the database at each write of a step (a
//! trigger that aborts the statement) leaves nothing half-written — no call row, no reservation, no
//! voicemail change, no callback request, no job, no event — and the provider's retry of the same
//! webhook then does the whole step. On both backends.

mod support;

use std::sync::Arc;

use chrono::TimeDelta;
use perezvon::clock::ManualClock;
use perezvon::domain::operator::Presence;
use perezvon::telephony::{EventKind, Recording, RecordingStatus, Step};
use support::TestDb;
use support::line::{Line, caller, sid};
use support::twilio::msk;

/// Makes every `op` (insert/update) on `table` fail until [`heal`].
async fn inject(db: &TestDb, table: &str, op: &str) {
    db.execute(
        &format!(
            "create trigger inject_fault before {op} on {table} \
             begin select raise(abort, 'injected fault'); end;"
        ),
        &format!(
            "create function inject_fault() returns trigger language plpgsql as \
             $$ begin raise exception 'injected fault'; end $$; \
             create trigger inject_fault before {op} on {table} for each row execute function inject_fault();"
        ),
    )
    .await;
}

async fn heal(db: &TestDb, table: &str) {
    db.execute(
        "drop trigger inject_fault;",
        &format!("drop trigger inject_fault on {table}; drop function inject_fault();"),
    )
    .await;
}

/// An incoming call in hours with a free operator writes the call, the reservation and the event.
async fn a_failed_incoming_call_leaves_nothing(db: &TestDb) {
    let line = Line::new(
        db.store.clone(),
        Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0))),
    );
    let op = line.add_operator("anna", Presence::Available).await;
    for (table, what) in [
        ("operators", "update"),
        ("calls", "update"),
        ("call_events", "insert"),
    ] {
        inject(db, table, what).await;
        let r = line
            .event(&sid(1), &caller(1), "incoming", EventKind::Incoming)
            .await;
        let e = r.expect_err(table);
        assert!(
            format!("{e:#}").contains("injected fault"),
            "{table}: {e:#}"
        );
        heal(db, table).await;
        let call = line
            .store
            .call_by_provider_id("twilio", &sid(1))
            .await
            .unwrap();
        assert!(call.is_none(), "{table}: {call:?}");
        let o = line.operator(op).await;
        assert_eq!(
            (o.presence, o.current_call_id),
            (Presence::Available, None),
            "{table}"
        );
    }
    // The provider's retry.
    let r = line.incoming(&sid(1), &caller(1)).await;
    assert!(r.contains(&format!("dial(op {op})")), "{r}");
    let call = line.call(&sid(1)).await;
    assert_eq!(line.operator(op).await.current_call_id, Some(call.id));
    assert_eq!(line.store.call_events(call.id).await.unwrap().len(), 1);
}

/// The voicemail's number step writes the voicemail, a new callback request and its history, the
/// call and the event; the recording's status writes the voicemail and a download job.
async fn a_failed_voicemail_step_leaves_nothing(db: &TestDb) {
    // Sunday: closed, the caller goes straight to voicemail.
    let line = Line::new(
        db.store.clone(),
        Arc::new(ManualClock::new(msk(2026, 12, 6, 10, 0))),
    );
    let r = line.incoming(&sid(1), &caller(1)).await;
    assert!(r.contains("gather(VoicemailNumber"), "{r}");
    let call = line.call(&sid(1)).await;
    let number = EventKind::Digits {
        step: Step::VoicemailNumber { attempt: 0 },
        digits: None,
    };
    for (table, what) in [
        ("voicemails", "update"),
        ("callback_requests", "insert"),
        ("callback_history", "insert"),
        ("calls", "update"),
        ("call_events", "insert"),
    ] {
        inject(db, table, what).await;
        let r = line
            .event(&sid(1), &caller(1), "digits:n0", number.clone())
            .await;
        assert!(r.is_err(), "{table}: {r:?}");
        heal(db, table).await;
        let vm = line
            .store
            .voicemail_for_call(call.id)
            .await
            .unwrap()
            .unwrap();
        assert!(!vm.number_confirmed, "{table}");
        assert!(
            line.store
                .callback_for_call(call.id)
                .await
                .unwrap()
                .is_none(),
            "{table}"
        );
        assert_eq!(line.call(&sid(1)).await.version, call.version, "{table}");
        assert_eq!(
            line.store.call_events(call.id).await.unwrap().len(),
            1,
            "{table}"
        );
    }
    let r = line
        .event(&sid(1), &caller(1), "digits:n0", number)
        .await
        .unwrap();
    assert!(r.contains("gather(VoicemailCategory"), "{r}");
    let request = line
        .store
        .callback_for_call(call.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.callback_number, caller(1));

    let ready = EventKind::RecordingReady {
        recording: Recording {
            id: "RE0123456789abcdef0123456789abcdef".into(),
            url: "https://api.twilio.com/rec/RE0123456789abcdef0123456789abcdef".into(),
            duration: Some(TimeDelta::seconds(12)),
        },
        status: RecordingStatus::Completed,
    };
    assert_eq!(line.store.next_job_due().await.unwrap(), None);
    inject(db, "jobs", "insert").await;
    let r = line
        .event(&sid(1), &caller(1), "rec:RE01", ready.clone())
        .await;
    assert!(r.is_err(), "{r:?}");
    heal(db, "jobs").await;
    let vm = line
        .store
        .voicemail_for_call(call.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vm.recording_key, None);
    assert_eq!(line.store.next_job_due().await.unwrap(), None);
    line.event(&sid(1), &caller(1), "rec:RE01", ready)
        .await
        .unwrap();
    let vm = line
        .store
        .voicemail_for_call(call.id)
        .await
        .unwrap()
        .unwrap();
    assert!(vm.recording_key.is_some());
    assert_eq!(line.store.next_job_due().await.unwrap(), Some(line.now()));
}

/// Defect 5: an operator who looks free but whose reservation never succeeds (here the database
/// silently skips it, as if another instance always took them first) is never dialled; the caller
/// queues behind them instead.
async fn an_operator_that_cannot_be_reserved_is_never_dialled(db: &TestDb) {
    let line = Line::new(
        db.store.clone(),
        Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0))),
    );
    let op = line.add_operator("anna", Presence::Available).await;
    db.execute(
        "create trigger inject_fault before update on operators when new.presence = 'on_call' \
         begin select raise(ignore); end;",
        "create function inject_fault() returns trigger language plpgsql as \
         $$ begin if new.presence = 'on_call' then return null; end if; return new; end $$; \
         create trigger inject_fault before update on operators for each row execute function inject_fault();",
    )
    .await;
    for i in 0..3 {
        let r = line.incoming(&sid(i), &caller(i)).await;
        assert!(
            !r.contains("dial("),
            "dialled an operator it did not reserve: {r}"
        );
        assert!(r.contains("enqueue"), "{r}");
        let c = line.call(&sid(i)).await;
        assert_eq!((c.state.as_str(), c.operator_id), ("queued", None));
    }
    heal(db, "operators").await;
    assert_eq!(line.operator(op).await.presence, Presence::Available);
}

on_both_backends!(
    an_operator_that_cannot_be_reserved_is_never_dialled,
    a_failed_incoming_call_leaves_nothing,
    a_failed_voicemail_step_leaves_nothing,
);
