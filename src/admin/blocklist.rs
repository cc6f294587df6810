//! The blocklist and the per-number limits as a service, for the API and the supervisor's page:
//! adding a rule (its value normalised, a reason of at most 200 characters), removing one, and
//! setting the limits (0–1000 each; 0 = off). Every change is audited (`blocklist.add`,
//! `blocklist.remove`, `limits.set`) with numbers and e-mail addresses masked. The caller then
//! tells the switchboard ([`crate::switchboard::Screening::changed`]) so every instance reads them
//! again.

use serde_json::json;

use super::{AdminError, Ctx};
use crate::config::limits::MAX_LIMIT;
use crate::domain::blocklist::{CallLimits, Rule, RuleKind, normalise};
use crate::domain::phone::mask;
use crate::store::StoreError;

/// The longest reason kept with a rule.
pub const MAX_REASON: usize = 200;

/// A rule's value as an audit entry may show it: numbers masked, an address's local part hidden.
pub fn shown_value(kind: RuleKind, value: &str) -> String {
    match kind {
        RuleKind::Number => mask(value),
        RuleKind::Email => match value.rsplit_once('@') {
            Some((_, domain)) => format!("***@{domain}"),
            None => "***".into(),
        },
        RuleKind::Prefix | RuleKind::Domain => value.to_owned(),
    }
}

/// Adds a rule; audits `blocklist.add`.
pub async fn add(
    ctx: Ctx<'_>,
    kind: RuleKind,
    value: &str,
    reason: &str,
) -> Result<Rule, AdminError> {
    let value = normalise(kind, value).map_err(AdminError::BadRule)?;
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON || reason.chars().any(char::is_control) {
        return Err(AdminError::BadReason);
    }
    let rule = match ctx
        .store
        .add_block_rule(kind, &value, reason, ctx.actor, ctx.now)
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(AdminError::RuleExists),
        other => other?,
    };
    ctx.audit(
        "blocklist.add",
        format!("blocklist:{}", rule.id),
        json!({"kind": kind, "value": shown_value(kind, &rule.value), "reason": rule.reason}),
    )
    .await?;
    Ok(rule)
}

/// Removes a rule (and its attempt counts); audits `blocklist.remove`.
pub async fn remove(ctx: Ctx<'_>, id: i64) -> Result<Rule, AdminError> {
    let rule = match ctx.store.remove_block_rule(id).await {
        Err(StoreError::NotFound(_)) => return Err(AdminError::NoRule(id)),
        other => other?,
    };
    ctx.audit(
        "blocklist.remove",
        format!("blocklist:{id}"),
        json!({"kind": rule.kind, "value": shown_value(rule.kind, &rule.value), "reason": rule.reason}),
    )
    .await?;
    Ok(rule)
}

/// Sets the per-number limits; audits `limits.set` with the values before and after.
pub async fn set_limits(
    ctx: Ctx<'_>,
    limits: CallLimits,
    before: CallLimits,
) -> Result<(), AdminError> {
    if limits.voicemails_per_day > MAX_LIMIT || limits.calls_per_hour > MAX_LIMIT {
        return Err(AdminError::BadLimit);
    }
    ctx.store
        .set_call_limits(limits, ctx.actor, ctx.now)
        .await?;
    ctx.audit(
        "limits.set",
        "limits".into(),
        json!({"before": before, "after": limits}),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_entries_show_no_full_number_or_address() {
        assert_eq!(
            shown_value(RuleKind::Number, "+79161234567"),
            "+7******4567"
        );
        assert_eq!(
            shown_value(RuleKind::Email, "ivanov@mail.ru"),
            "***@mail.ru"
        );
        assert_eq!(shown_value(RuleKind::Prefix, "+7800"), "+7800");
        assert_eq!(
            shown_value(RuleKind::Domain, "spam.example"),
            "spam.example"
        );
    }
}
