//! Registration numbers in the store, on SQLite always and on PostgreSQL when configured: every
//! new request draws the next number of its year's counter whichever way it is created (a
//! voicemail, by hand), a merged voicemail draws none, the year is Moscow's, two instances
//! creating requests at once never share a number, and requests made before numbers existed are
//! numbered once, in creation order. (The number told to the caller, sent by SMS and found by the
//! API's search is in `callbacks_api.rs`.)

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::calendar::MOSCOW;
use perezvon::domain::callback::CallbackSettings;
use perezvon::domain::registration::RegistrationFormat;
use perezvon::store::callbacks::{HandRequest, Supervised, Supervision};
use perezvon::store::{AttachVoicemail, Store};
use support::TestDb;

on_both_backends!(
    every_new_request_draws_the_next_number,
    two_instances_never_share_a_number,
    requests_made_before_numbers_are_numbered_once,
);

fn msk(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, 30, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A voicemail from `number` joined to the list at `at`; the request's registration number.
async fn voicemail(store: &Arc<dyn Store>, sid: &str, number: &str, at: DateTime<Utc>) -> String {
    let call = store
        .ensure_call("twilio", sid, Some(number), Some("+74950000000"), at)
        .await
        .unwrap();
    store
        .start_voicemail(call.id, Some(number), at)
        .await
        .unwrap();
    let settings = CallbackSettings::default();
    let a = AttachVoicemail {
        call_id: call.id,
        number,
        category: None,
        now: at,
        due: at,
        deadline: at + TimeDelta::hours(8),
        deadline_work_ms: 1_000,
        priority: &settings.priority,
        source: "voicemail",
        registration: &settings.registration,
    };
    let id = store
        .attach_voicemail(&a)
        .await
        .unwrap()
        .unwrap()
        .request_id();
    reg(store, id).await
}

async fn reg(store: &Arc<dyn Store>, id: i64) -> String {
    store
        .callback_request(id)
        .await
        .unwrap()
        .unwrap()
        .reg_number
        .unwrap_or_else(|| panic!("request {id} has no number"))
}

fn by<'a>(now: DateTime<Utc>, action: &'a str) -> Supervision<'a> {
    Supervision {
        actor: "boss",
        reason: "проверка",
        now,
        action,
        audit: serde_json::json!({}),
    }
}

async fn every_new_request_draws_the_next_number(db: &TestDb) {
    let s = &db.store;
    let day = msk(2026, 12, 1, 10);
    assert_eq!(
        voicemail(s, "CA1", "+79160000001", day).await,
        "ШП-2026-000001"
    );
    assert_eq!(
        voicemail(s, "CA2", "+79160000002", day).await,
        "ШП-2026-000002"
    );
    // A second voicemail from the first number joins its request: no number drawn.
    assert_eq!(
        voicemail(s, "CA3", "+79160000001", day).await,
        "ШП-2026-000001"
    );
    // A request made by hand draws from the same counter.
    let settings = CallbackSettings::default();
    let hand = HandRequest {
        number: "+79160000003",
        category: "parent",
        source: "letter",
        summary: "письмо о пароле",
        topic: None,
        due: day,
        deadline: day + TimeDelta::hours(8),
        deadline_work_ms: 1_000,
        priority: &settings.priority,
        registration: &settings.registration,
    };
    let made = s
        .create_callback_by_hand(&hand, &by(day, "callback.create"))
        .await
        .unwrap();
    let Supervised::Done(r) = made else {
        panic!("refused: {made:?}")
    };
    assert_eq!(r.reg_number.as_deref(), Some("ШП-2026-000003"));
    // Refused (the number has an active request): the counter is not raised.
    let again = s
        .create_callback_by_hand(&hand, &by(day, "callback.create"))
        .await
        .unwrap();
    assert!(matches!(again, Supervised::Refused(_)), "{again:?}");
    // Closed, then a new voicemail from that number: a new request with a new number.
    let first = s
        .find_callbacks(&perezvon::store::callbacks::CallbackFilter {
            reg_number: Some("ШП-2026-000001".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].callback_number, "+79160000001");
    let closed = s
        .close_callback(
            first[0].id,
            "closed_by_supervisor",
            TimeDelta::minutes(30),
            &by(day, "callback.close"),
        )
        .await
        .unwrap();
    assert!(matches!(closed, Supervised::Done(_)), "{closed:?}");
    assert_eq!(
        voicemail(s, "CA4", "+79160000001", day).await,
        "ШП-2026-000004"
    );
    // 00:30 on 1 January in Moscow is still 31 December in UTC: the new year's counter.
    let new_year = msk(2027, 1, 1, 0);
    assert_eq!(
        voicemail(s, "CA5", "+79160000005", new_year).await,
        "ШП-2027-000001"
    );
    assert_eq!(
        voicemail(s, "CA6", "+79160000006", new_year).await,
        "ШП-2027-000002"
    );
}

async fn two_instances_never_share_a_number(db: &TestDb) {
    let other = db.another_instance().await;
    let stores = [db.store.clone(), other];
    let day = msk(2026, 12, 2, 11);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let number = format!("+7916100{i:04}");
            voicemail(&store, &format!("CA{i}"), &number, day).await
        }));
    }
    let mut numbers = HashSet::new();
    for t in tasks {
        let n = t.await.unwrap();
        assert!(numbers.insert(n.clone()), "{n} given twice");
    }
    let expected: HashSet<String> = (1..=24).map(|i| format!("ШП-2026-{i:06}")).collect();
    assert_eq!(numbers, expected, "24 requests, numbers 1–24, none skipped");
}

async fn requests_made_before_numbers_are_numbered_once(db: &TestDb) {
    let s = &db.store;
    let format = RegistrationFormat::default();
    voicemail(s, "CA1", "+79160000001", msk(2026, 12, 30, 10)).await;
    voicemail(s, "CA2", "+79160000002", msk(2026, 12, 29, 10)).await;
    voicemail(s, "CA3", "+79160000003", msk(2027, 1, 11, 10)).await;
    // As the database was before registration numbers: no numbers, no counters.
    let sql = "update callback_requests set reg_number = null; delete from registration_counters;";
    db.execute(sql, sql).await;
    // Two instances start at once.
    let other = db.another_instance().await;
    let (a, b) = tokio::join!(
        s.number_unnumbered_requests(&format),
        other.number_unnumbered_requests(&format)
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        3,
        "each request numbered by one of them"
    );
    assert_eq!(s.number_unnumbered_requests(&format).await.unwrap(), 0);
    let mut all = s
        .find_callbacks(&perezvon::store::callbacks::CallbackFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    all.sort_by_key(|r| r.created_at);
    let numbers: Vec<_> = all
        .iter()
        .map(|r| (r.callback_number.as_str(), r.reg_number.as_deref().unwrap()))
        .collect();
    assert_eq!(
        numbers,
        [
            ("+79160000002", "ШП-2026-000001"),
            ("+79160000001", "ШП-2026-000002"),
            ("+79160000003", "ШП-2027-000001"),
        ],
        "in creation order, by the Moscow year of creation"
    );
    // The next new request follows them.
    assert_eq!(
        voicemail(s, "CA4", "+79160000004", msk(2027, 1, 12, 10)).await,
        "ШП-2027-000002"
    );
}
