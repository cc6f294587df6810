//! The Russian words of the workspace in one place: presence, categories, request states,
//! outcomes, the provider's call statuses, call states, and how instants read in Moscow time.
//! Pages render with these, and [`labels_json`] hands the same table to the pages' scripts, so
//! no word is spelt twice.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::calendar::MOSCOW;
use crate::domain::callback::Outcome;
use crate::domain::operator::Presence;

/// An operator's presence.
pub fn presence(p: Presence) -> &'static str {
    match p {
        Presence::Available => "на линии",
        Presence::OnCall => "на звонке",
        Presence::WrapUp => "завершает звонок",
        Presence::Break => "перерыв",
        Presence::Offline => "не в сети",
    }
}

/// Who called: school staff or a parent.
pub fn category(c: Option<&str>) -> &'static str {
    match c {
        Some("staff") => "сотрудник школы",
        Some("parent") => "родитель или ученик",
        _ => "не указано",
    }
}

/// A callback request's state.
pub fn state(s: &str) -> &'static str {
    match s {
        "open" => "ждёт звонка",
        "claimed" => "в работе",
        "closed" => "закрыта",
        _ => "",
    }
}

/// A stored outcome (an operator's, or `unreachable`).
pub fn outcome(o: &str) -> &'static str {
    match o {
        "resolved" => "Вопрос решён",
        "follow_up" => "Перезвонить в согласованное время",
        "no_answer" => "Не отвечает",
        "busy" => "Занято",
        "wrong_number" => "Неверный номер",
        "rejected_insufficient_info" => "Отказ: недостаточно сведений",
        "rejected_unclear" => "Отказ: вопрос непонятен",
        "unreachable" => "Не дозвонились",
        _ => "",
    }
}

/// A click-to-call's status as the provider reports it.
pub fn call_status(s: &str) -> &'static str {
    match s {
        "queued" => "вызов поставлен в очередь",
        "initiated" => "набираем номер",
        "ringing" => "идёт вызов",
        "in-progress" | "answered" => "идёт разговор",
        "completed" => "звонок завершён",
        "busy" => "занято",
        "no-answer" => "нет ответа",
        "failed" => "звонок не удался",
        "canceled" => "звонок отменён",
        _ => "",
    }
}

/// A call's state (an incoming call to the hotline).
pub fn call_state(s: &str) -> &'static str {
    match s {
        "incoming" | "ringing_operator" | "queued" | "connecting" => "идёт",
        "connected" | "completed" => "разговор с оператором",
        "voicemail" | "voicemail_left" => "оставил сообщение",
        "goodbye" => "нерабочее время",
        "abandoned" => "положил трубку",
        _ => "",
    }
}

/// The outcomes an operator chooses from, in the order of the buttons.
pub fn outcomes() -> Vec<(&'static str, &'static str)> {
    Outcome::ALL
        .iter()
        .map(|o| (o.as_str(), outcome(o.as_str())))
        .collect()
}

/// `01.12.2026 10:15` in Moscow time.
pub fn moscow(t: DateTime<Utc>) -> String {
    t.with_timezone(&MOSCOW)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

/// `10:15` in Moscow time.
pub fn moscow_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&MOSCOW).format("%H:%M").to_string()
}

/// `вторник, 1 декабря`.
pub fn day(d: NaiveDate) -> String {
    format!(
        "{}, {}",
        crate::speech::russian::weekday_nominative(d.weekday()),
        crate::speech::russian::day_month(d)
    )
}

/// An estimate's hour-wide range: `01.12.2026 10:00–11:00`.
pub fn eta_window(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!("{}–{}", moscow(from), moscow_time(to))
}

/// Every table above, keyed by the stored name, for the pages' scripts.
pub fn labels_json() -> serde_json::Value {
    let map = |names: &[&str], f: fn(&str) -> &'static str| -> serde_json::Value {
        names
            .iter()
            .map(|n| ((*n).to_owned(), serde_json::Value::from(f(n))))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    serde_json::json!({
        "presence": Presence::ALL.iter()
            .map(|p| (p.as_str().to_owned(), serde_json::Value::from(presence(*p))))
            .collect::<serde_json::Map<_, _>>(),
        "category": map(&["staff", "parent", ""], |c| category(Some(c))),
        "state": map(&["open", "claimed", "closed"], state),
        "outcome": map(&[
            "resolved", "follow_up", "no_answer", "busy", "wrong_number",
            "rejected_insufficient_info", "rejected_unclear", "unreachable",
        ], outcome),
        "call_status": map(&[
            "queued", "initiated", "ringing", "in-progress", "answered", "completed", "busy",
            "no-answer", "failed", "canceled",
        ], call_status),
        "call_state": map(&[
            "incoming", "ringing_operator", "queued", "connecting", "connected", "completed",
            "voicemail", "voicemail_left", "goodbye", "abandoned",
        ], call_state),
    })
}
