//! What a supervisor does to the callback list, the pure part: where a request came from (a
//! voicemail, or by hand: a walk-in, a letter, a phone note), how a supervisor may close a request
//! (their own closing, or one of the regulation's two rejection grounds), what a request made by
//! hand must carry and how long a supervisor's reason may be, and the Russian names of outcomes and
//! history steps that people read. The service and both front ends (JSON API, pages) check input
//! here, so the rules exist once.

use crate::domain::named_enum;
use crate::domain::phone::PhoneNumber;
use crate::domain::voicemail::CallerCategory;

named_enum! {
    /// Where a request came from.
    pub enum Source: "source" {
        /// A voicemail left on the hotline (the usual way).
        Voicemail = "voicemail",
        /// Someone came in person.
        WalkIn = "walk_in",
        /// A letter (paper or e-mail).
        Letter = "letter",
        /// A phone note taken outside the hotline.
        PhoneNote = "phone_note",
        /// A caller who hung up waiting in the queue (no message; see
        /// `callbacks.abandoned_join_after_secs`).
        Abandoned = "abandoned",
        /// A letter to the support mailbox (`mail::intake`).
        Email = "email",
    }
}

impl Source {
    /// The sources a supervisor may choose for a request made by hand.
    pub const BY_HAND: &'static [Source] = &[Source::WalkIn, Source::Letter, Source::PhoneNote];

    /// The Russian name.
    pub fn label(self) -> &'static str {
        match self {
            Source::Voicemail => "голосовое сообщение",
            Source::WalkIn => "личное обращение",
            Source::Letter => "письмо",
            Source::PhoneNote => "телефонограмма",
            Source::Abandoned => "не дождался ответа в очереди",
            Source::Email => "письмо на почту поддержки",
        }
    }
}

named_enum! {
    /// How a supervisor closes an open request.
    pub enum CloseAs: "closing" {
        /// Closed by a supervisor's decision (the reason is in the history).
        ClosedBySupervisor = "closed_by_supervisor",
        /// Rejected: the caller gave too little to act on (a ground of the regulation).
        RejectedInsufficientInfo = "rejected_insufficient_info",
        /// Rejected: the question was unclear (a ground of the regulation).
        RejectedUnclear = "rejected_unclear",
    }
}

/// The Russian name of a caller's category.
pub fn category_label(c: CallerCategory) -> &'static str {
    match c {
        CallerCategory::Staff => "сотрудник школы",
        CallerCategory::Parent => "родитель",
    }
}

/// The longest summary of a request made by hand.
pub const SUMMARY_MAX_CHARS: usize = 2000;
/// The longest reason a supervisor gives.
pub const REASON_MAX_CHARS: usize = 500;

/// A request made by hand, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByHand {
    pub number: PhoneNumber,
    pub category: CallerCategory,
    pub source: Source,
    /// What it is about, in the supervisor's words.
    pub summary: String,
}

/// Why input was refused; the message is Russian (it is shown on pages and in the API's error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl ByHand {
    /// Checks the fields of a request made by hand: a callback number that exists (normalized to
    /// E.164), a category, a source other than a voicemail, and a non-empty summary.
    pub fn parse(
        number: &str,
        category: &str,
        source: &str,
        summary: &str,
    ) -> Result<ByHand, Invalid> {
        let number = PhoneNumber::parse(number).map_err(|e| {
            Invalid(
                match e {
                    crate::domain::phone::PhoneError::Empty => {
                        "Укажите номер для обратного звонка."
                    }
                    crate::domain::phone::PhoneError::BadCharacters => {
                        "В номере телефона есть лишние символы."
                    }
                    crate::domain::phone::PhoneError::Invalid => {
                        "Такого номера телефона не бывает; проверьте цифры."
                    }
                }
                .to_owned(),
            )
        })?;
        let category: CallerCategory = category.trim().parse().map_err(|_| {
            Invalid("Выберите, кто обратился: сотрудник школы или родитель.".into())
        })?;
        let source: Source = source
            .trim()
            .parse()
            .ok()
            .filter(|s| Source::BY_HAND.contains(s))
            .ok_or_else(|| {
                Invalid(
                    "Выберите, как поступило обращение: лично, письмом или телефонограммой.".into(),
                )
            })?;
        let summary = summary.trim();
        if summary.is_empty() {
            return Err(Invalid("Опишите, о чём обращение.".into()));
        }
        if summary.chars().count() > SUMMARY_MAX_CHARS {
            return Err(Invalid(format!(
                "Описание длиннее {SUMMARY_MAX_CHARS} знаков."
            )));
        }
        Ok(ByHand {
            number,
            category,
            source,
            summary: summary.to_owned(),
        })
    }
}

/// A supervisor's reason: trimmed, required, at most [`REASON_MAX_CHARS`].
pub fn reason(text: &str) -> Result<String, Invalid> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Invalid("Укажите причину.".into()));
    }
    if t.chars().count() > REASON_MAX_CHARS {
        return Err(Invalid(format!(
            "Причина длиннее {REASON_MAX_CHARS} знаков."
        )));
    }
    Ok(t.to_owned())
}

/// The Russian name of a stored outcome (an operator's, `unreachable`, or a supervisor's closing);
/// unknown codes are shown as they are.
pub fn outcome_label(code: &str) -> &str {
    match code {
        "resolved" => "вопрос решён",
        "follow_up" => "договорились перезвонить",
        "no_answer" => "не ответили",
        "busy" => "занято",
        "wrong_number" => "неверный номер",
        "rejected_insufficient_info" => "отклонена: недостаточно информации",
        "rejected_unclear" => "отклонена: вопрос сформулирован некорректно",
        super::UNREACHABLE => "не дозвонились",
        "closed_by_supervisor" => "закрыта руководителем",
        "erased" => "персональные данные удалены по запросу",
        other => other,
    }
}

/// The Russian name of a step in a request's history.
pub fn history_label(action: &str) -> &str {
    match action {
        "created" => "создана",
        "merged" => "повторное обращение",
        "repeated" => "повторный звонок сверх лимита",
        "claimed" => "взята оператором",
        "released" => "возвращена в список",
        "dialed" => "звонок",
        "dial_failed" => "звонок не удался",
        "outcome" => "результат",
        "reassigned" => "передана оператору",
        "closed" => "закрыта",
        other => other,
    }
}

/// The Russian name of a request's state.
pub fn state_label(state: &str) -> &str {
    match state {
        "open" => "в очереди",
        "claimed" => "у оператора",
        "closed" => "закрыта",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_by_hand_is_checked() {
        let ok =
            ByHand::parse(" 8 (916) 123-45-67 ", "staff", "letter", "  Нет доступа  ").unwrap();
        assert_eq!(ok.number.as_str(), "+79161234567");
        assert_eq!(ok.category, CallerCategory::Staff);
        assert_eq!(ok.source, Source::Letter);
        assert_eq!(ok.summary, "Нет доступа");
        let bad = |n: &str, c: &str, s: &str, t: &str| ByHand::parse(n, c, s, t).unwrap_err().0;
        assert!(bad("", "staff", "letter", "x").contains("номер"));
        assert!(bad("12", "staff", "letter", "x").contains("номер"));
        assert!(bad("+79161234567", "pupil", "letter", "x").contains("сотрудник"));
        assert!(bad("+79161234567", "parent", "voicemail", "x").contains("письмом"));
        assert!(bad("+79161234567", "parent", "walk_in", "  ").contains("о чём"));
        let long = "ж".repeat(SUMMARY_MAX_CHARS + 1);
        assert!(bad("+79161234567", "parent", "walk_in", &long).contains("длиннее"));
    }

    #[test]
    fn reasons_and_labels() {
        assert_eq!(reason("  дубль  ").unwrap(), "дубль");
        assert!(reason(" ").is_err());
        assert!(reason(&"я".repeat(REASON_MAX_CHARS + 1)).is_err());
        assert_eq!(
            outcome_label("closed_by_supervisor"),
            "закрыта руководителем"
        );
        assert_eq!(outcome_label("unreachable"), "не дозвонились");
        assert_eq!(outcome_label("new_code"), "new_code");
        for c in CloseAs::ALL {
            assert_ne!(outcome_label(c.as_str()), c.as_str());
        }
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>().unwrap(), *s);
        }
    }
}
