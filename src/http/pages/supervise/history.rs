//! A request's past for the supervisor's page, in Russian: each history step's detail (who, what,
//! why; operators by name, outcomes and topics by their labels, times in Moscow time) and each
//! click-to-call attempt with its status, duration, outcome and note.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::list::source_text;
use super::msk;
use crate::domain::callback::supervise::outcome_label;
use crate::store::{Attempt, HistoryEntry};

/// One step of the history table.
pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub text: String,
}

/// One click-to-call of the attempts table.
pub struct AttemptRow {
    pub started: String,
    pub operator: String,
    pub status: String,
    pub duration: String,
    pub outcome: String,
    pub note: String,
}

/// "4 мин 05 с".
fn duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let s = (to - from).num_seconds().max(0);
    if s >= 60 {
        format!("{} мин {:02} с", s / 60, s % 60)
    } else {
        format!("{s} с")
    }
}

/// The provider's status of a click-to-call, in Russian.
fn call_status(status: &str) -> &str {
    match status {
        "queued" => "в очереди",
        "initiated" => "набор",
        "ringing" => "вызов",
        "in-progress" | "answered" => "разговор",
        "completed" => "завершён",
        "busy" => "занято",
        "no-answer" => "не ответили",
        "failed" => "ошибка",
        "canceled" => "отменён",
        other => other,
    }
}

/// Known system reasons of a release, in Russian; a supervisor's own words as they are.
fn release_reason(reason: &str) -> &str {
    match reason {
        "lease expired" => "время на обработку истекло",
        "released by its holder" => "оператор вернул сам",
        "released by a supervisor" => "вернул руководитель",
        "one claim per operator" => "у оператора может быть только одна заявка",
        other => other,
    }
}

/// One history step's detail in Russian.
pub fn describe(
    e: &HistoryEntry,
    names: &HashMap<i64, String>,
    topic: &dyn Fn(&str) -> String,
) -> String {
    let d = &e.detail;
    let s = |k: &str| d.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let n = |k: &str| d.get(k).and_then(Value::as_i64);
    let op = |k: &str| {
        n(k).map(|id| {
            names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("оператор №{id}"))
        })
    };
    let when = |k: &str| {
        s(k).and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| msk(t.with_timezone(&Utc)))
    };
    let mut parts: Vec<String> = Vec::new();
    match e.action.as_str() {
        "created" => {
            if let Some(vm) = n("voicemail_id") {
                parts.push(format!("голосовое сообщение №{vm}"));
            }
            if let Some(src) = s("source") {
                parts.push(source_text(src));
            }
            if let Some(t) = s("topic") {
                parts.push(format!("тема: {}", topic(t)));
            }
            if let Some(t) = s("summary") {
                parts.push(format!("«{t}»"));
            }
            if let Some(t) = when("due_at") {
                parts.push(format!("звонить с {t}"));
            }
            if let Some(t) = when("deadline") {
                parts.push(format!("срок до {t}"));
            }
        }
        "merged" => {
            if let Some(vm) = n("voicemail_id") {
                parts.push(format!("ещё одно сообщение №{vm}"));
            }
            if let Some(r) = n("repeat_count") {
                parts.push(format!("повторов: {r}"));
            }
        }
        "repeated" => {
            if let Some(r) = n("repeat_count") {
                parts.push(format!("повторов: {r}"));
            }
        }
        "claimed" => {
            parts.extend(op("operator_id"));
            if let Some(t) = when("lease_until") {
                parts.push(format!("до {t}"));
            }
        }
        "released" => {
            if let Some(r) = s("reason") {
                parts.push(release_reason(r).to_owned());
            }
            if let Some(o) = op("operator_id") {
                parts.push(format!("была у: {o}"));
            }
        }
        "dialed" | "dial_failed" => {
            if let Some(a) = n("attempt_id") {
                parts.push(format!("попытка №{a}"));
            }
            if let Some(err) = s("error") {
                parts.push(err.to_owned());
            }
        }
        "outcome" => {
            if let Some(o) = s("outcome") {
                parts.push(outcome_label(o).to_owned());
            }
            if let Some(o) = s("closed_as").filter(|c| Some(*c) != s("outcome")) {
                parts.push(format!("закрыта: {}", outcome_label(o)));
            }
            if let Some(t) = s("topic") {
                parts.push(format!("тема: {}", topic(t)));
            }
            parts.extend(op("operator_id"));
            if let Some(t) = when("due_at") {
                parts.push(format!("следующий звонок {t}"));
            }
        }
        "reassigned" => {
            if let Some(o) = op("from_operator_id") {
                parts.push(format!("от: {o}"));
            }
            if let Some(o) = op("operator_id") {
                parts.push(format!("кому: {o}"));
            }
        }
        "closed" => {
            if let Some(o) = s("closed_as") {
                parts.push(outcome_label(o).to_owned());
            }
            if let Some(o) = op("operator_id") {
                parts.push(format!("была у: {o}"));
            }
        }
        _ => parts.push(d.to_string()),
    }
    if e.action != "released"
        && let Some(r) = s("reason")
    {
        parts.push(format!("причина: {r}"));
    }
    parts.join("; ")
}

pub fn attempt_row(a: &Attempt, names: &HashMap<i64, String>) -> AttemptRow {
    let mut status = a
        .call_status
        .as_deref()
        .map(call_status)
        .unwrap_or(if a.provider_call_id.is_some() {
            "набор"
        } else {
            "без звонка через систему"
        })
        .to_owned();
    if let Some(e) = &a.error {
        status = format!("ошибка: {e}");
    }
    AttemptRow {
        started: msk(a.started_at),
        operator: a
            .operator_id
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_default(),
        status,
        duration: a
            .ended_at
            .map(|end| duration(a.started_at, end))
            .unwrap_or_else(|| "идёт".into()),
        outcome: a
            .outcome
            .as_deref()
            .map(outcome_label)
            .unwrap_or("")
            .to_owned(),
        note: a.note.clone().unwrap_or_default(),
    }
}
