//! What a supervisor does to the callback list, as a service both the JSON API and the pages call:
//! make a request by hand (a walk-in, a letter, a phone note; placed like a voicemail's request,
//! see [`Callbacks::attach_plan`]), move a request to another operator, close it with a reason,
//! take a claim back, and find requests by state, number or text. Input is checked by
//! `domain::callback::supervise`; each change writes the request's history and an audit entry
//! (`callback.create`, `callback.reassign`, `callback.close`, `callback.release`; numbers masked)
//! in one transaction. Refusals come back as [`SuperviseError`] with a Russian message.

use chrono::{DateTime, Utc};

use super::{CallbackItem, Callbacks};
use crate::domain::callback::CloseAs;
use crate::domain::callback::supervise::{self as rules, ByHand, category_label};
use crate::domain::phone::{mask, mask_in_text};
use crate::store::callbacks::{CallbackFilter, HandRequest, Refusal, Supervised, Supervision};
use crate::store::{CallbackRequest, StoreError};

/// Why a supervisor's action was not done; messages are Russian.
#[derive(Debug, thiserror::Error)]
pub enum SuperviseError {
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// No such request or operator (404).
    #[error("{0}")]
    NotFound(String),
    /// Not possible now (409).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rules::Invalid> for SuperviseError {
    fn from(e: rules::Invalid) -> Self {
        SuperviseError::Invalid(e.0)
    }
}

/// A request made by hand, as typed.
#[derive(Debug, Clone, Default)]
pub struct ByHandInput<'a> {
    pub number: &'a str,
    /// `staff` or `parent`.
    pub category: &'a str,
    /// `walk_in`, `letter` or `phone_note`.
    pub source: &'a str,
    pub summary: &'a str,
    /// A topic code, if known already.
    pub topic: Option<&'a str>,
}

/// Which requests to find.
#[derive(Debug, Clone, Default)]
pub struct Find<'a> {
    /// `active` (open and claimed; the default), `open`, `claimed`, `closed` or `all`.
    pub state: &'a str,
    /// Digits of the number, a registration number (`ШП-2026-000123`, found whatever its state
    /// unless a state is given), or words of the summary, note or topic.
    pub query: &'a str,
    pub limit: i64,
}

/// How many requests a text search looks through (the newest of the chosen states).
const TEXT_SEARCH_SPAN: i64 = 2000;

/// The reason written when a supervisor gives none (releases from the API).
pub const RELEASE_REASON: &str = "снята руководителем";

/// The `like` patterns of the callback number when `query` is a phone number or part of one (at
/// least three digits and nothing but phone punctuation): its digits anywhere, and, when it starts
/// with the trunk prefix 8, the same number after `+7` (a full one only that way).
fn number_patterns(query: &str) -> Option<Vec<String>> {
    if !query
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().\u{a0}".contains(c))
    {
        return None;
    }
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 3 {
        return None;
    }
    Some(match digits.strip_prefix('8') {
        Some(rest) if digits.len() == 11 => vec![format!("+7{rest}")],
        Some(rest) => vec![format!("%{digits}%"), format!("+7{rest}%")],
        None => vec![format!("%{digits}%")],
    })
}

fn refused(id: i64, why: Refusal, operator: &str) -> SuperviseError {
    use SuperviseError::{Conflict, NotFound};
    match why {
        Refusal::NotFound => NotFound(format!("Заявки №{id} нет.")),
        Refusal::Closed => Conflict(format!("Заявка №{id} уже закрыта.")),
        Refusal::Dialing => Conflict(format!(
            "По заявке №{id} сейчас идёт звонок; дождитесь, пока он закончится."
        )),
        Refusal::NotClaimed => Conflict(format!(
            "Заявка №{id} не у оператора: возвращать в очередь нечего."
        )),
        Refusal::AlreadyHeld => Conflict(format!("Заявка №{id} уже у оператора {operator}.")),
        Refusal::TargetHolds(0) => Conflict(format!(
            "У оператора {operator} уже есть заявка: оператор ведёт одну заявку за раз."
        )),
        Refusal::TargetHolds(other) => Conflict(format!(
            "У оператора {operator} уже есть заявка №{other}: оператор ведёт одну заявку за раз."
        )),
        Refusal::ActiveForNumber(0) => Conflict("По этому номеру уже есть открытая заявка.".into()),
        Refusal::ActiveForNumber(other) => Conflict(format!(
            "По этому номеру уже есть открытая заявка №{other}."
        )),
    }
}

impl Callbacks {
    fn done(
        &self,
        id: i64,
        s: Supervised,
        operator: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackItem, SuperviseError> {
        match s {
            Supervised::Done(r) => Ok(self.item(*r, None, now)),
            Supervised::Refused(why) => Err(refused(id, why, operator)),
        }
    }

    /// Creates a request by hand: due now during working hours (else at the next opening), its
    /// deadline and rank as for a voicemail; refused when the number has an active request.
    pub async fn create_by_hand(
        &self,
        input: &ByHandInput<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackItem, SuperviseError> {
        let r = ByHand::parse(input.number, input.category, input.source, input.summary)?;
        let topic = input.topic.map(str::trim).filter(|t| !t.is_empty());
        if let Some(t) = topic
            && self.settings.topic(t).is_none()
        {
            return Err(SuperviseError::Invalid(format!("Неизвестная тема «{t}».")));
        }
        let plan = self.attach_plan(now);
        let reason = format!(
            "создана вручную ({}), {}",
            r.source.label(),
            category_label(r.category)
        );
        let by = Supervision {
            actor,
            reason: &reason,
            now,
            action: "callback.create",
            audit: serde_json::json!({
                "number": mask(r.number.as_str()),
                "category": r.category,
                "source": r.source,
                "topic": topic,
            }),
        };
        let hand = HandRequest {
            number: r.number.as_str(),
            category: r.category.as_str(),
            source: r.source.as_str(),
            summary: &r.summary,
            topic,
            due: plan.due,
            deadline: plan.deadline,
            deadline_work_ms: plan.deadline_work_ms,
            priority: &self.settings.priority,
            registration: &self.settings.registration,
        };
        match self.store.create_callback_by_hand(&hand, &by).await? {
            Supervised::Done(r) => {
                let eta = self.eta(&r, now).await?;
                Ok(self.item(*r, eta, now))
            }
            Supervised::Refused(why) => Err(refused(0, why, "")),
        }
    }

    /// Gives the request to the operator `login` under a fresh lease, from whoever held it (or
    /// from the list). Refused when the request is closed, while it is being dialed, and when the
    /// operator holds another request.
    pub async fn reassign(
        &self,
        id: i64,
        login: &str,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackItem, SuperviseError> {
        let reason = rules::reason(reason)?;
        let login = login.trim();
        if login.is_empty() {
            return Err(SuperviseError::Invalid(
                "Выберите оператора, которому передать заявку.".into(),
            ));
        }
        let op = self
            .store
            .operator_by_login(login)
            .await?
            .ok_or_else(|| SuperviseError::NotFound(format!("Нет оператора «{login}».")))?;
        if self
            .store
            .user_by_login(login)
            .await?
            .is_none_or(|u| u.disabled)
        {
            return Err(SuperviseError::Conflict(format!(
                "Учётная запись оператора {login} отключена."
            )));
        }
        let before = self.request(id).await?;
        let by = Supervision {
            actor,
            reason: &reason,
            now,
            action: "callback.reassign",
            audit: serde_json::json!({
                "from_operator_id": before.claimed_by.filter(|_| before.state == "claimed"),
                "to": login,
                "reason": mask_in_text(&reason),
            }),
        };
        let s = &self.settings;
        let s = self
            .store
            .reassign_callback(id, op.id, s.lease, s.lease, &by)
            .await?;
        self.done(id, s, login, now)
    }

    /// Closes an open or claimed request as `close_as` (`closed_by_supervisor` when not given, or
    /// one of the regulation's rejection grounds) with the supervisor's reason; refused while it is
    /// being dialed.
    pub async fn close(
        &self,
        id: i64,
        close_as: Option<&str>,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackItem, SuperviseError> {
        let close_as = match close_as.map(str::trim).filter(|c| !c.is_empty()) {
            None => CloseAs::ClosedBySupervisor,
            Some(c) => c.parse().map_err(|_| {
                SuperviseError::Invalid(format!(
                    "Неизвестный способ закрытия «{c}»; возможны: {}.",
                    CloseAs::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        };
        let reason = rules::reason(reason)?;
        let by = Supervision {
            actor,
            reason: &reason,
            now,
            action: "callback.close",
            audit: serde_json::json!({
                "closed_as": close_as,
                "reason": mask_in_text(&reason),
            }),
        };
        let s = self
            .store
            .close_callback(id, close_as.as_str(), self.settings.lease, &by)
            .await?;
        self.done(id, s, "", now)
    }

    /// Returns anyone's claim to the list, even while a call is in progress (the way out of a
    /// stuck claim); `reason` defaults to [`RELEASE_REASON`].
    pub async fn release_by_supervisor(
        &self,
        id: i64,
        reason: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackItem, SuperviseError> {
        let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => rules::reason(r)?,
            None => RELEASE_REASON.to_owned(),
        };
        let before = self.request(id).await?;
        let by = Supervision {
            actor,
            reason: &reason,
            now,
            action: "callback.release",
            audit: serde_json::json!({
                "operator_id": before.claimed_by,
                "reason": mask_in_text(&reason),
            }),
        };
        let s = self.store.release_callback_by_supervisor(id, &by).await?;
        match s {
            Supervised::Done(r) => {
                let eta = self.eta(&r, now).await?;
                Ok(self.item(*r, eta, now))
            }
            Supervised::Refused(why) => Err(refused(id, why, "")),
        }
    }

    /// Requests for the supervisor's list (see [`Find`]), without estimates.
    pub async fn find(
        &self,
        f: &Find<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<CallbackItem>, SuperviseError> {
        let query = f.query.trim();
        let reg_number = self.settings.registration.recognise(query);
        let states: &[&str] = match f.state.trim() {
            "" if reg_number.is_some() => &[],
            "" | "active" => &["open", "claimed"],
            "open" => &["open"],
            "claimed" => &["claimed"],
            "closed" => &["closed"],
            "all" => &[],
            other => {
                return Err(SuperviseError::Invalid(format!(
                    "Неизвестное состояние «{other}»; возможны: active, open, claimed, closed, all."
                )));
            }
        };
        let limit = f.limit.clamp(1, 500);
        let patterns = number_patterns(query).filter(|_| reg_number.is_none());
        let words: Vec<String> = if patterns.is_none() && reg_number.is_none() {
            query.split_whitespace().map(str::to_lowercase).collect()
        } else {
            Vec::new()
        };
        let filter = CallbackFilter {
            states: states.iter().map(|s| (*s).to_owned()).collect(),
            number_patterns: patterns.unwrap_or_default(),
            reg_number,
            limit: if words.is_empty() {
                limit
            } else {
                TEXT_SEARCH_SPAN
            },
        };
        let found = self.store.find_callbacks(&filter).await?;
        let matches = |r: &CallbackRequest| {
            let text = [&r.summary, &r.note, &r.topic]
                .iter()
                .filter_map(|t| t.as_deref())
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        };
        Ok(found
            .into_iter()
            .filter(|r| matches(r))
            .take(usize::try_from(limit).unwrap_or(500))
            .map(|r| self.item(r, None, now))
            .collect())
    }

    async fn request(&self, id: i64) -> Result<CallbackRequest, SuperviseError> {
        self.store
            .callback_request(id)
            .await?
            .ok_or_else(|| SuperviseError::NotFound(format!("Заявки №{id} нет.")))
    }
}

#[cfg(test)]
mod tests {
    use super::number_patterns;

    #[test]
    fn number_queries() {
        let p = |q: &str| number_patterns(q).map(|v| v.join(" "));
        assert_eq!(p("8 916 123-45-67").as_deref(), Some("+79161234567"));
        assert_eq!(p("8 916 444").as_deref(), Some("%8916444% +7916444%"));
        assert_eq!(p("4567").as_deref(), Some("%4567%"));
        assert_eq!(p("+7 916").as_deref(), Some("%7916%"));
        assert_eq!(p("12"), None);
        assert_eq!(p("письмо 2024"), None);
    }
}
