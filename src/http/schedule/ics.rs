//! The iCalendar feed (RFC 5545) of the hotline's working windows: one `VEVENT` per window
//! of the coming days, times in `Europe/Moscow` with its `VTIMEZONE`, a `UID` made of the
//! window's Moscow date and the service's host (the same on every request and every
//! instance), CRLF line ends, lines folded at 75 octets on a character boundary, and TEXT
//! values escaped. Events are `TRANSP:TRANSPARENT`: subscribing does not make anyone busy.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};

use crate::calendar::{Calendar, DayKind, MOSCOW, moscow_date, moscow_to_utc};

/// The feed's name in calendar applications.
pub const CALENDAR_NAME: &str = "Линия поддержки Школьного портала";
/// Every event's title.
pub const SUMMARY: &str = "Горячая линия работает";

/// Escapes a TEXT value: `\` `;` `,` and line breaks (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no line exceeds 75 octets (RFC 5545 §3.1): a
/// break is CRLF and a space, never inside a UTF-8 character; the line ends with CRLF.
pub fn push_line(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

/// The event's `UID`: `window-YYYYMMDD@host`, and `-N` before the `@` for a second window
/// on the same date.
pub fn uid(date: NaiveDate, nth: usize, host: &str) -> String {
    let suffix = if nth == 0 {
        String::new()
    } else {
        format!("-{}", nth + 1)
    };
    format!("window-{}{suffix}@{host}", date.format("%Y%m%d"))
}

/// The feed: the windows of the `days` Moscow dates from `now`'s onward; `phones` go into
/// each event's description; `host` names the service in the UIDs.
pub fn feed(
    calendar: &Calendar,
    now: DateTime<Utc>,
    days: i64,
    phones: &[String],
    host: &str,
) -> String {
    let mut out = String::new();
    let mut line = |s: &str| push_line(&mut out, s);
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Perezvon//Hotline schedule//RU",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        &format!("X-WR-CALNAME:{}", escape_text(CALENDAR_NAME)),
        &format!(
            "X-WR-CALDESC:{}",
            escape_text("Часы работы горячей линии, московское время.")
        ),
        "X-WR-TIMEZONE:Europe/Moscow",
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H",
        "X-PUBLISHED-TTL:PT12H",
        // Moscow has kept +03:00 all year since 26 October 2014; the feed only covers the
        // coming days, so one STANDARD observance describes it.
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Moscow",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0300",
        "TZOFFSETTO:+0300",
        "TZNAME:MSK",
        "END:STANDARD",
        "END:VTIMEZONE",
    ] {
        line(l);
    }
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let today = moscow_date(now);
    let from = moscow_to_utc(today, chrono::NaiveTime::MIN);
    let to = moscow_to_utc(today + TimeDelta::days(days), chrono::NaiveTime::MIN);
    let phone_text = match phones {
        [] => None,
        [one] => Some(format!("Телефон: {one}.")),
        many => Some(format!("Телефоны: {}.", many.join(", "))),
    };
    let mut last: Option<(NaiveDate, usize)> = None;
    for w in calendar.windows(from, to) {
        let (start, end) = (w.start.with_timezone(&MOSCOW), w.end.with_timezone(&MOSCOW));
        let date = start.date_naive();
        let nth = match last {
            Some((d, n)) if d == date => n + 1,
            _ => 0,
        };
        last = Some((date, nth));
        let day = calendar.day(date);
        let mut about = Vec::new();
        if day.kind == DayKind::Shortened {
            about.push("Сокращённый предпраздничный день.".to_owned());
        } else if day.kind == DayKind::Working
            && matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        {
            about.push("Рабочий день по переносу.".to_owned());
        }
        about.extend(phone_text.clone());
        about.push("Время московское.".to_owned());
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", uid(date, nth, host)));
        line(&format!("DTSTAMP:{stamp}"));
        line(&format!(
            "DTSTART;TZID=Europe/Moscow:{}",
            start.format("%Y%m%dT%H%M%S")
        ));
        line(&format!(
            "DTEND;TZID=Europe/Moscow:{}",
            end.format("%Y%m%dT%H%M%S")
        ));
        line(&format!("SUMMARY:{}", escape_text(SUMMARY)));
        line(&format!("DESCRIPTION:{}", escape_text(&about.join("\n"))));
        line("TRANSP:TRANSPARENT");
        line("STATUS:CONFIRMED");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        assert_eq!(escape_text("a,b;c\\d"), "a\\,b\\;c\\\\d");
        assert_eq!(
            escape_text("one\ntwo\r\nthree\rfour"),
            "one\\ntwo\\nthree\\nfour"
        );
        assert_eq!(escape_text("Телефон: +7 495"), "Телефон: +7 495");
    }

    #[test]
    fn folds_at_75_octets_on_a_character_boundary() {
        let mut out = String::new();
        push_line(&mut out, "SHORT:x");
        assert_eq!(out, "SHORT:x\r\n");
        // 8 ASCII octets, then 2-octet Cyrillic letters: 75 is reached mid-letter.
        let long = format!("SUMMARY:{}", "ж".repeat(100));
        let mut out = String::new();
        push_line(&mut out, &long);
        assert!(out.ends_with("\r\n"));
        let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(lines.len() > 1);
        for (i, l) in lines.iter().enumerate() {
            assert!(l.len() <= 75, "line {i} has {} octets", l.len());
            if i > 0 {
                assert!(l.starts_with(' '));
            }
        }
        assert_eq!(lines[0].len(), 74, "the 38th letter would end at octet 76");
        let unfolded: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { *l } else { &l[1..] })
            .collect();
        assert_eq!(unfolded, long);
        // Exactly 75 octets stays on one line.
        let mut out = String::new();
        push_line(&mut out, &"a".repeat(75));
        assert_eq!(out.len(), 77);
        let mut out = String::new();
        push_line(&mut out, &"a".repeat(76));
        assert_eq!(out, format!("{}\r\n a\r\n", "a".repeat(75)));
    }

    #[test]
    fn uids_name_the_date() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            uid(d, 0, "hotline.example.ru"),
            "window-20261207@hotline.example.ru"
        );
        assert_eq!(uid(d, 1, "h"), "window-20261207-2@h");
    }
}
