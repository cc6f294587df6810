//! Operators: adding one for a login (the user is created with role operator and a random password
//! nobody knows when missing, as `perezvon operator add` always did), changing how a call reaches
//! them, and overriding their presence (the operator themself, a supervisor or an administrator;
//! `on_call` is set only by calls, and never cleared by hand while a call holds the operator).
//! Audit details carry contacts masked.

use serde_json::json;

use super::users::{checked_login, create_hashed};
use super::{AdminError, Ctx, checked_name};
use crate::domain::operator::{ContactKind, Presence, validate_contact};
use crate::domain::phone::mask;
use crate::domain::user::Role;
use crate::store::{NewOperator, Operator, StoreError};

/// What a new operator needs.
#[derive(Debug, Clone)]
pub struct NewOperatorInput {
    pub login: String,
    pub name: String,
    pub contact_kind: ContactKind,
    pub contact: String,
}

/// A contact checked against its kind, canonical.
pub fn checked_contact(kind: ContactKind, contact: &str) -> Result<String, AdminError> {
    validate_contact(kind, contact).map_err(|e| AdminError::BadContact(kind, e))
}

/// Creates an operator (offline) for a login, creating the user (role operator, a random
/// password) when missing. Audits `operator.create` (and `user.create` for a new user).
pub async fn create(ctx: Ctx<'_>, input: &NewOperatorInput) -> Result<Operator, AdminError> {
    let login = checked_login(&input.login)?;
    let name = checked_name(&input.name)?;
    let contact = checked_contact(input.contact_kind, &input.contact)?;
    let (user, user_created) = match ctx.store.user_by_login(&login).await? {
        Some(u) => (u, false),
        None => {
            // No password yet: a random one nobody knows; an administrator sets a real one.
            let (random, _) = crate::secrets::new_token();
            let hash = super::users::hash(&random).await?;
            let u = create_hashed(ctx, login.clone(), name.clone(), Role::Operator, hash).await?;
            (u, true)
        }
    };
    let new = NewOperator {
        user_id: user.id,
        name,
        contact_kind: input.contact_kind,
        contact,
    };
    let op = match ctx.store.create_operator(&new, ctx.now).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::AlreadyOperator(login)),
        other => other?,
    };
    ctx.audit(
        "operator.create",
        subject(&login),
        json!({
            "name": op.name,
            "contact_kind": op.contact_kind,
            "contact": mask(&op.contact),
            "user_created": user_created,
        }),
    )
    .await?;
    Ok(op)
}

/// The operator tied to this login, or [`AdminError::NoOperator`].
pub async fn existing(ctx: Ctx<'_>, login: &str) -> Result<Operator, AdminError> {
    ctx.store
        .operator_by_login(login)
        .await?
        .ok_or_else(|| AdminError::NoOperator(login.to_owned()))
}

/// Changes how a call reaches the operator; audits `operator.contact` (masked). No change, no entry.
pub async fn set_contact(
    ctx: Ctx<'_>,
    login: &str,
    kind: ContactKind,
    contact: &str,
) -> Result<Operator, AdminError> {
    let op = existing(ctx, login).await?;
    let contact = checked_contact(kind, contact)?;
    if op.contact_kind == kind && op.contact == contact {
        return Ok(op);
    }
    let updated = ctx
        .store
        .set_contact(op.id, kind, &contact)
        .await?
        .ok_or_else(|| AdminError::NoOperator(login.to_owned()))?;
    ctx.audit(
        "operator.contact",
        subject(login),
        json!({
            "from": { "kind": op.contact_kind, "contact": mask(&op.contact) },
            "to": { "kind": kind, "contact": mask(&contact) },
        }),
    )
    .await?;
    Ok(updated)
}

/// Sets an operator's presence by hand; audits `operator.presence`. Returns the updated operator;
/// when it became `available` the caller wakes the hold-queue dispatcher.
pub async fn set_presence(
    ctx: Ctx<'_>,
    login: &str,
    presence: Presence,
) -> Result<Operator, AdminError> {
    if presence == Presence::OnCall {
        return Err(AdminError::OnCallByHand);
    }
    let op = existing(ctx, login).await?;
    let updated = match ctx.store.set_presence(op.id, presence, ctx.now).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::OnCall(login.to_owned())),
        other => other?.ok_or_else(|| AdminError::NoOperator(login.to_owned()))?,
    };
    ctx.audit(
        "operator.presence",
        subject(login),
        json!({ "from": op.presence, "to": presence }),
    )
    .await?;
    Ok(updated)
}

/// The audit subject of an operator.
pub fn subject(login: &str) -> String {
    format!("operator:{}", login.chars().take(64).collect::<String>())
}
