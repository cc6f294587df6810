//! Administration as a service: creating users and operators, changing roles, disabling, setting
//! passwords, editing contacts and overriding presence, and the calendar's status for supervisors.
//! The workspace pages, the JSON API and the command line all call these functions, so each rule
//! (a valid login, a long enough password, a valid contact, "nobody disables themself", "the last
//! administrator stays", "`on_call` is set by calls only") lives here once. Every change writes an
//! audit entry naming the actor; contacts in audit details are masked. Who may call what (operator,
//! supervisor, administrator) is checked by the callers, at the edge.
//!
//! Errors are [`AdminError`]: English text for the API and the command line (its `Display`), and
//! [`AdminError::russian`] for the pages.

use chrono::{DateTime, Utc};

use crate::domain::operator::ContactKind;
use crate::store::{NewAuditEntry, Store, StoreError};

pub mod blocklist;
pub mod calendar;
pub mod operators;
pub mod users;

/// Who acts, on which store, at what instant.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub store: &'a dyn Store,
    /// The signed-in login, or `cli`.
    pub actor: &'a str,
    pub now: DateTime<Utc>,
}

impl<'a> Ctx<'a> {
    /// Appends an audit entry by this actor.
    pub(crate) async fn audit(
        &self,
        action: &str,
        subject: String,
        detail: serde_json::Value,
    ) -> Result<(), AdminError> {
        let entry = NewAuditEntry {
            actor: self.actor.chars().take(64).collect(),
            action: action.into(),
            subject,
            detail: detail.to_string(),
            request_id: None,
        };
        self.store.audit(&entry, self.now).await?;
        Ok(())
    }
}

/// Why an administrative action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The login breaks the login rule (English reason inside).
    #[error("{0}")]
    BadLogin(String),
    /// The password is too short (English reason inside).
    #[error("{0}")]
    BadPassword(String),
    /// A display or operator name is empty or too long.
    #[error("the name must be 1–100 characters")]
    BadName,
    /// The contact does not fit its kind (English reason inside).
    #[error("{1}")]
    BadContact(ContactKind, String),
    /// Somebody tried to set `on_call` by hand.
    #[error("`on_call` is set by calls, not by hand")]
    OnCallByHand,
    #[error("login `{0}` exists already")]
    LoginTaken(String),
    #[error("user `{0}` is an operator already")]
    AlreadyOperator(String),
    #[error("no user `{0}`")]
    NoUser(String),
    #[error("no operator `{0}`")]
    NoOperator(String),
    #[error("operator `{0}` is on a call; presence changes when the call ends")]
    OnCall(String),
    /// Disabling oneself or changing one's own role.
    #[error("you cannot disable yourself or change your own role")]
    OwnAccount,
    #[error("`{0}` is the last enabled administrator; make someone else an administrator first")]
    LastAdmin(String),
    /// A blocklist rule's value does not fit its kind.
    #[error("{0}")]
    BadRule(crate::domain::blocklist::RuleError),
    #[error("the reason must be at most 200 characters, without control characters")]
    BadReason,
    #[error("a limit must be between 0 (off) and 1000")]
    BadLimit,
    #[error("the same rule is on the blocklist already")]
    RuleExists,
    #[error("no blocklist rule {0}")]
    NoRule(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How an [`AdminError`] is answered: a client error or a failure of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// 400: the input is wrong.
    Invalid,
    /// 404.
    NotFound,
    /// 409: the current state does not allow it.
    Conflict,
    /// Anything else (the store).
    Internal,
}

impl AdminError {
    /// The kind of answer this error calls for.
    pub fn class(&self) -> ErrorClass {
        use AdminError::*;
        match self {
            BadLogin(_) | BadPassword(_) | BadName | BadContact(..) | OnCallByHand | BadRule(_)
            | BadReason | BadLimit => ErrorClass::Invalid,
            NoUser(_) | NoOperator(_) | NoRule(_) => ErrorClass::NotFound,
            LoginTaken(_) | AlreadyOperator(_) | OnCall(_) | OwnAccount | LastAdmin(_)
            | RuleExists => ErrorClass::Conflict,
            Store(StoreError::NotFound(_)) => ErrorClass::NotFound,
            Store(StoreError::Conflict(_)) => ErrorClass::Conflict,
            Store(_) => ErrorClass::Internal,
        }
    }

    /// The reason in Russian, for the pages.
    pub fn russian(&self) -> String {
        use AdminError::*;
        match self {
            BadLogin(_) => "Логин — от 2 до 64 латинских букв, цифр и знаков «.», «_», «-».".into(),
            BadPassword(_) => format!(
                "Пароль должен быть не короче {} символов.",
                crate::secrets::MIN_PASSWORD_LEN
            ),
            BadName => "Имя — от 1 до 100 символов.".into(),
            BadContact(ContactKind::Phone, _) => {
                "Телефон — в международном формате, например +74951234567.".into()
            }
            BadContact(ContactKind::Sip, _) => "SIP-адрес — вида sip:user@host.".into(),
            BadContact(ContactKind::Extension, _) => "Внутренний номер — от 2 до 8 цифр.".into(),
            OnCallByHand => "Состояние «на звонке» ставится только звонком.".into(),
            LoginTaken(l) => format!("Логин «{l}» уже занят."),
            AlreadyOperator(l) => format!("Пользователь «{l}» уже оператор."),
            NoUser(l) => format!("Пользователя «{l}» нет."),
            NoOperator(l) => format!("Оператора «{l}» нет."),
            OnCall(l) => format!(
                "Оператор «{l}» сейчас на звонке; состояние изменится, когда звонок закончится."
            ),
            OwnAccount => "Нельзя отключить себя или изменить собственную роль.".into(),
            LastAdmin(l) => format!(
                "«{l}» — последний действующий администратор. Сначала назначьте администратором \
                 кого-то ещё."
            ),
            BadRule(e) => {
                use crate::domain::blocklist::RuleError as R;
                match e {
                    R::Number => "Номер — в международном формате, например +79161234567.",
                    R::Prefix => "Префикс — «+» и от 1 до 15 цифр, например +7800.",
                    R::Email => "Адрес электронной почты — вида name@example.ru.",
                    R::Domain => "Домен — вида example.ru.",
                }
                .into()
            }
            BadReason => "Причина — не длиннее 200 символов.".into(),
            BadLimit => "Лимит — число от 0 (без ограничения) до 1000.".into(),
            RuleExists => "Такое правило уже есть в списке блокировки.".into(),
            NoRule(_) => "Такого правила в списке блокировки нет.".into(),
            Store(StoreError::NotFound(_)) => "Не найдено.".into(),
            Store(StoreError::Conflict(_)) => {
                "Конфликт с текущим состоянием; обновите страницу.".into()
            }
            Store(_) => "Что-то пошло не так. Попробуйте ещё раз через минуту.".into(),
        }
    }
}

/// A display or operator name: trimmed, 1–100 characters.
pub(crate) fn checked_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::BadName);
    }
    Ok(name.to_owned())
}
