//! The public schedule end to end: the app on a real port (0), no sign-in. The pages answer with
//! this Moscow week, open/closed at the service clock's "now" (a manual clock and the offset clock
//! `serve --clock-start` uses), and their framing and caching headers; the iCalendar feed, parsed
//! here (CRLF, unfolding, VEVENTs), holds exactly the calendar's working windows of the next 60
//! days — over a shortened day, a public holiday, a moved day off and the New Year holidays — with
//! UIDs that are the same on every request and every instance.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use perezvon::calendar::{Calendar, DayKind, HotlineHours, MOSCOW, moscow_date, moscow_to_utc};
use perezvon::clock::{Clock, ManualClock, OffsetClock};
use perezvon::config::Config;
use perezvon::http::AppState;
use support::TestDb;

const ORIGIN: &str = "https://school.example.ru";

fn config(phones: Option<&str>) -> Config {
    let mut env = vec![
        ("PEREZVON_PUBLIC_URL", "https://hotline.example.ru"),
        ("PEREZVON_SCHEDULE__EMBED_ORIGINS", ORIGIN),
    ];
    if let Some(p) = phones {
        env.push(("PEREZVON_SCHEDULE__PHONE_NUMBERS", p));
    }
    let env = env.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned()));
    Config::load_with_env(None, env).unwrap()
}

/// The app with `config` and `clock`; its base URL. The database stays until the test ends.
async fn spawn(db: &TestDb, config: Config, clock: Arc<dyn Clock>) -> String {
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    let switchboard = Arc::new(perezvon::switchboard::Switchboard::new(
        db.store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    ));
    let state = AppState {
        config: Arc::new(config),
        store: db.store.clone(),
        calendar,
        clock,
        switchboard,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(perezvon::http::serve(
        listener,
        state,
        std::future::pending(),
    ));
    base
}

fn msk(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Status, headers and body of a GET without credentials.
async fn get(url: String) -> (u16, reqwest::header::HeaderMap, String) {
    let r = reqwest::get(url).await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.text().await.unwrap())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn pages_show_the_week_and_open_or_closed() {
    let db = TestDb::sqlite().await;
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 7, 10, 0))); // Monday
    let base = spawn(
        &db,
        config(Some("+74950000000, 8 800 100-00-00")),
        clock.clone(),
    )
    .await;
    for path in ["/schedule", "/schedule/embed"] {
        let (status, h, body) = get(format!("{base}{path}")).await;
        assert_eq!(status, 200, "{path} needs no sign-in");
        assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&h, "cache-control"), "public, max-age=300");
        assert!(body.contains("<html lang=\"ru\">"), "{path}");
        for wd in [
            "понедельник",
            "вторник",
            "среда",
            "четверг",
            "пятница",
            "суббота",
            "воскресенье",
        ] {
            assert!(body.contains(wd), "{path}: {wd}");
        }
        for d in 7..=13 {
            assert!(body.contains(&format!("{d} декабря")), "{path}: {d}");
        }
        assert_eq!(body.matches("09:00–18:00").count(), 5, "{path}");
        assert_eq!(body.matches(">выходной<").count(), 2, "{path}");
        let today = body
            .split("aria-current=\"date\"")
            .nth(1)
            .expect("today marked");
        assert!(
            today[..today.find("</tr>").unwrap()].contains("7 декабря"),
            "{path}"
        );
        assert!(body.contains("Сейчас открыто до 18:00"), "{path}");
        assert!(
            body.contains("href=\"tel:+74950000000\">+7 495 000-00-00<"),
            "{path}"
        );
        assert!(
            body.contains("href=\"tel:88001000000\">8 800 100-00-00<"),
            "{path}"
        );
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}: no external asset"
        );
    }
    let (_, h, _) = get(format!("{base}/schedule")).await;
    let csp = header(&h, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let (_, h, _) = get(format!("{base}/schedule/embed")).await;
    let csp = header(&h, "content-security-policy");
    assert!(
        csp.contains(&format!("frame-ancestors 'self' {ORIGIN}")),
        "{csp}"
    );
    assert!(h.get("x-frame-options").is_none());

    // Saturday noon: closed until Monday.
    clock.set(msk(2026, 12, 5, 12, 0));
    let (_, _, body) = get(format!("{base}/schedule")).await;
    assert!(body.contains("Сейчас закрыто"));
    assert!(
        body.contains("Откроется в понедельник, 7 декабря, в 09:00"),
        "{body}"
    );
    // The week of a shortened day and a holiday (2–8 November 2026).
    clock.set(msk(2026, 11, 3, 17, 30));
    let (_, _, body) = get(format!("{base}/schedule")).await;
    assert!(body.contains("09:00–17:00 <span class=\"note\">(сокращённый день)</span>"));
    assert!(body.contains("праздник <span class=\"note\">(День народного единства)</span>"));
    assert!(
        body.contains("Откроется в четверг, 5 ноября, в 09:00"),
        "{body}"
    );
    assert!(body.contains("31 декабря, четверг — выходной, перенесён с 4 января"));
    db.finish().await;
}

#[tokio::test]
async fn the_offset_clock_and_no_phones() {
    let db = TestDb::sqlite().await;
    let open = OffsetClock::starting_at(msk(2026, 12, 7, 10, 0));
    let base = spawn(&db, config(Some("")), Arc::new(open)).await;
    let (_, _, body) = get(format!("{base}/schedule")).await;
    assert!(body.contains("Сейчас открыто до 18:00"));
    assert!(!body.contains("tel:"), "no phone block without numbers");
    let sunday = OffsetClock::starting_at(msk(2026, 12, 6, 12, 0));
    let base = spawn(&db, config(None), Arc::new(sunday)).await;
    let (_, _, body) = get(format!("{base}/schedule/embed")).await;
    assert!(
        body.contains("Откроется завтра, в понедельник, 7 декабря, в 09:00"),
        "{body}"
    );
    db.finish().await;
}

/// A parsed feed: the calendar's properties and its events (name with parameters → value).
struct Feed {
    calendar: BTreeMap<String, String>,
    events: Vec<BTreeMap<String, String>>,
}

fn parse(text: &str) -> Feed {
    assert!(text.ends_with("\r\n"));
    let physical: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    let mut lines: Vec<String> = Vec::new();
    for l in physical {
        assert!(
            !l.contains('\n') && !l.contains('\r'),
            "bare line break in {l:?}"
        );
        assert!(l.len() <= 75, "{} octets: {l}", l.len());
        match l.strip_prefix(' ') {
            Some(rest) => lines.last_mut().expect("a first line").push_str(rest),
            None => lines.push(l.to_owned()),
        }
    }
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    let mut feed = Feed {
        calendar: BTreeMap::new(),
        events: Vec::new(),
    };
    let mut current: Option<BTreeMap<String, String>> = None;
    let mut depth = Vec::new();
    for l in &lines[1..lines.len() - 1] {
        let (name, value) = l.split_once(':').expect("name:value");
        match (name, value) {
            ("BEGIN", "VEVENT") => current = Some(BTreeMap::new()),
            ("END", "VEVENT") => feed.events.push(current.take().expect("open event")),
            ("BEGIN", v) => depth.push(v.to_owned()),
            ("END", v) => assert_eq!(depth.pop().as_deref(), Some(v)),
            _ => {
                let map = match (&mut current, depth.is_empty()) {
                    (Some(ev), _) => ev,
                    (None, true) => &mut feed.calendar,
                    (None, false) => continue,
                };
                assert!(
                    map.insert(name.to_owned(), value.to_owned()).is_none(),
                    "{name} twice"
                );
            }
        }
    }
    assert!(current.is_none() && depth.is_empty());
    feed
}

fn local(v: &str) -> DateTime<Utc> {
    let t = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").unwrap();
    MOSCOW.from_local_datetime(&t).unwrap().with_timezone(&Utc)
}

/// What the calendar says: each working window of the 60 Moscow dates from `now`'s.
fn expected(cal: &Calendar, now: DateTime<Utc>) -> BTreeSet<(DateTime<Utc>, DateTime<Utc>)> {
    let today = moscow_date(now);
    today
        .iter_days()
        .take(60)
        .filter_map(|d| {
            let h = cal.day(d).hours?;
            Some((moscow_to_utc(d, h.open), moscow_to_utc(d, h.close)))
        })
        .collect()
}

async fn ics(base: &str) -> (Feed, String) {
    let (status, h, body) = get(format!("{base}/schedule.ics")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-type"), "text/calendar; charset=utf-8");
    let cd = header(&h, "content-disposition");
    assert!(
        cd.starts_with("inline;") && cd.contains("filename=\"") && cd.contains(".ics\""),
        "{cd}"
    );
    assert_eq!(header(&h, "cache-control"), "public, max-age=300");
    (parse(&body), body)
}

#[tokio::test]
async fn the_feed_is_the_calendar_for_60_days() {
    let cal = Calendar::builtin(HotlineHours::default());
    let db = TestDb::sqlite().await;
    let phones = Some("+7 495 000-00-00, 8 800 100-00-00");
    for start in [msk(2026, 11, 2, 10, 0), msk(2026, 12, 25, 20, 0)] {
        let clock = Arc::new(ManualClock::new(start));
        let base = spawn(&db, config(phones), clock.clone()).await;
        let (feed, _) = ics(&base).await;
        let c = &feed.calendar;
        for (k, v) in [
            ("VERSION", "2.0"),
            ("CALSCALE", "GREGORIAN"),
            ("METHOD", "PUBLISH"),
            ("X-WR-TIMEZONE", "Europe/Moscow"),
            ("X-WR-CALNAME", "Линия поддержки Школьного портала"),
        ] {
            assert_eq!(c.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert!(c.contains_key("PRODID"));
        let mut seen = BTreeSet::new();
        let mut uids = Vec::new();
        for ev in &feed.events {
            let s = local(&ev["DTSTART;TZID=Europe/Moscow"]);
            let e = local(&ev["DTEND;TZID=Europe/Moscow"]);
            assert!(seen.insert((s, e)), "window {s} listed twice");
            let date = moscow_date(s);
            assert!(
                cal.day(date).kind.is_working(),
                "event on a non-working day {date}"
            );
            assert_eq!(
                ev["UID"],
                format!("window-{}@hotline.example.ru", date.format("%Y%m%d"))
            );
            assert_eq!(ev["SUMMARY"], "Горячая линия работает");
            assert!(ev["DTSTAMP"].ends_with('Z') && ev["DTSTAMP"].len() == 16);
            assert!(ev["DESCRIPTION"].contains("Телефоны: +7 495 000-00-00\\, 8 800 100-00-00."));
            let shortened = cal.day(date).kind == DayKind::Shortened;
            assert_eq!(
                ev["DESCRIPTION"].contains("Сокращённый"),
                shortened,
                "{date}"
            );
            uids.push(ev["UID"].clone());
        }
        assert_eq!(
            seen,
            expected(&cal, start),
            "every working window exactly once"
        );
        // The range holds a shortened day and a holiday on a weekday, which the feed respects.
        let range: Vec<NaiveDate> = moscow_date(start).iter_days().take(60).collect();
        let kinds: Vec<DayKind> = range.iter().map(|d| cal.day(*d).kind).collect();
        assert!(kinds.contains(&DayKind::Shortened) && kinds.contains(&DayKind::Holiday));
        // Stable: a later request (another DTSTAMP) and another instance give the same UIDs.
        clock.advance(TimeDelta::minutes(7));
        let (again, _) = ics(&base).await;
        assert_ne!(again.events[0]["DTSTAMP"], feed.events[0]["DTSTAMP"]);
        let other = spawn(&db, config(phones), clock.clone()).await;
        let (other, _) = ics(&other).await;
        for f in [&again, &other] {
            assert_eq!(
                f.events
                    .iter()
                    .map(|e| e["UID"].clone())
                    .collect::<Vec<_>>(),
                uids
            );
        }
        assert_eq!(
            uids.iter().collect::<BTreeSet<_>>().len(),
            uids.len(),
            "UIDs unique"
        );
    }
    // The named days of the first range (2 November – 31 December 2026).
    let clock = Arc::new(ManualClock::new(msk(2026, 11, 2, 10, 0)));
    let base = spawn(&db, config(phones), clock).await;
    let (feed, raw) = ics(&base).await;
    let by_date: BTreeMap<String, (&str, &str)> = feed
        .events
        .iter()
        .map(|e| {
            let s = e["DTSTART;TZID=Europe/Moscow"].as_str();
            (
                s[..8].to_owned(),
                (&s[9..], &e["DTEND;TZID=Europe/Moscow"][9..]),
            )
        })
        .collect();
    assert_eq!(by_date["20261102"], ("090000", "180000"));
    assert_eq!(
        by_date["20261103"],
        ("090000", "170000"),
        "shortened before the holiday"
    );
    assert!(!by_date.contains_key("20261104"), "День народного единства");
    assert_eq!(by_date["20261230"], ("090000", "180000"));
    assert!(
        !by_date.contains_key("20261231"),
        "the day off moved from 4 January"
    );
    assert!(!by_date.contains_key("20261107"), "Saturday");
    assert_eq!(feed.events.len(), 42);
    assert!(raw.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Moscow\r\nBEGIN:STANDARD\r\n"));
    for l in [
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0300",
        "TZOFFSETTO:+0300",
        "TZNAME:MSK",
    ] {
        assert!(raw.contains(&format!("\r\n{l}\r\n")), "{l}");
    }
    db.finish().await;
}
