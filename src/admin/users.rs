//! Users: creation (login rule, password length, Argon2id off the async threads), role and name
//! changes, disabling and enabling (a disabled user's sessions and tokens end at once), and a new
//! password set by an administrator (the user's sessions end). Nobody disables themself or changes
//! their own role, and the last enabled administrator is never disabled or demoted, so the service
//! cannot be locked out from the workspace.

use serde_json::json;

use super::{AdminError, Ctx, checked_name};
use crate::domain::user::{Role, validate_login};
use crate::store::{NewUser, StoreError, User};

/// What a new user needs.
#[derive(Debug, Clone)]
pub struct NewUserInput {
    pub login: String,
    /// Empty: the login.
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

/// Checks a login; returns it trimmed.
pub fn checked_login(login: &str) -> Result<String, AdminError> {
    let login = login.trim();
    validate_login(login).map_err(AdminError::BadLogin)?;
    Ok(login.to_owned())
}

/// Hashes a password (at least [`crate::secrets::MIN_PASSWORD_LEN`] characters) off the async
/// threads.
pub async fn hash(password: &str) -> Result<String, AdminError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || crate::secrets::hash_password(&password))
        .await
        .map_err(|e| AdminError::BadPassword(format!("cannot hash the password: {e}")))?
        .map_err(AdminError::BadPassword)
}

/// Creates a user and audits `user.create`.
pub async fn create(ctx: Ctx<'_>, input: &NewUserInput) -> Result<User, AdminError> {
    let login = checked_login(&input.login)?;
    let display_name = if input.display_name.trim().is_empty() {
        login.clone()
    } else {
        checked_name(&input.display_name)?
    };
    let password_hash = hash(&input.password).await?;
    create_hashed(ctx, login, display_name, input.role, password_hash).await
}

/// Creates a user whose password is hashed already (login and name checked by the caller).
pub(crate) async fn create_hashed(
    ctx: Ctx<'_>,
    login: String,
    display_name: String,
    role: Role,
    password_hash: String,
) -> Result<User, AdminError> {
    let new = NewUser {
        login: login.clone(),
        display_name,
        role,
        password_hash,
    };
    let user = match ctx.store.create_user(&new, ctx.now).await {
        Err(StoreError::Conflict(_)) => return Err(AdminError::LoginTaken(login)),
        other => other?,
    };
    ctx.audit(
        "user.create",
        subject(&login),
        json!({ "role": role, "display_name": user.display_name }),
    )
    .await?;
    Ok(user)
}

/// The user with this login, or [`AdminError::NoUser`].
pub async fn existing(ctx: Ctx<'_>, login: &str) -> Result<User, AdminError> {
    ctx.store
        .user_by_login(login)
        .await?
        .ok_or_else(|| AdminError::NoUser(login.to_owned()))
}

/// Refuses a change that would leave no enabled administrator, or that targets the actor.
async fn guard(ctx: Ctx<'_>, user: &User) -> Result<(), AdminError> {
    if user.login == ctx.actor {
        return Err(AdminError::OwnAccount);
    }
    if user.role == Role::Admin && !user.disabled {
        let admins = ctx
            .store
            .users()
            .await?
            .iter()
            .filter(|u| u.role == Role::Admin && !u.disabled)
            .count();
        if admins <= 1 {
            return Err(AdminError::LastAdmin(user.login.clone()));
        }
    }
    Ok(())
}

/// Changes a user's role; audits `user.role`. No change, no entry.
pub async fn set_role(ctx: Ctx<'_>, login: &str, role: Role) -> Result<User, AdminError> {
    let user = existing(ctx, login).await?;
    if user.role == role {
        return Ok(user);
    }
    guard(ctx, &user).await?;
    ctx.store.set_role(login, role).await?;
    ctx.audit(
        "user.role",
        subject(login),
        json!({ "from": user.role, "to": role }),
    )
    .await?;
    existing(ctx, login).await
}

/// Changes a user's display name; audits `user.name`. No change, no entry.
pub async fn set_display_name(ctx: Ctx<'_>, login: &str, name: &str) -> Result<User, AdminError> {
    let user = existing(ctx, login).await?;
    let name = checked_name(name)?;
    if user.display_name == name {
        return Ok(user);
    }
    ctx.store.set_display_name(login, &name).await?;
    ctx.audit("user.name", subject(login), json!({ "to": name }))
        .await?;
    existing(ctx, login).await
}

/// Disables (ending every session and token at once) or enables a user; audits `user.disable` /
/// `user.enable`. No change, no entry.
pub async fn set_disabled(ctx: Ctx<'_>, login: &str, disabled: bool) -> Result<User, AdminError> {
    let user = existing(ctx, login).await?;
    if user.disabled == disabled {
        return Ok(user);
    }
    if disabled {
        guard(ctx, &user).await?;
    }
    if !ctx.store.set_disabled(login, disabled, ctx.now).await? {
        return Err(AdminError::NoUser(login.to_owned()));
    }
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    ctx.audit(action, subject(login), json!({})).await?;
    existing(ctx, login).await
}

/// Sets a new password; the user's sessions end. Audits `user.password` (never the password).
/// Returns how many sessions ended.
pub async fn set_password(ctx: Ctx<'_>, login: &str, password: &str) -> Result<u64, AdminError> {
    let user = existing(ctx, login).await?;
    let hash = hash(password).await?;
    set_password_hashed(ctx, &user, &hash).await
}

/// [`set_password`] with the hash computed by the caller.
pub(crate) async fn set_password_hashed(
    ctx: Ctx<'_>,
    user: &User,
    hash: &str,
) -> Result<u64, AdminError> {
    if !ctx.store.set_password(&user.login, hash).await? {
        return Err(AdminError::NoUser(user.login.clone()));
    }
    let ended = ctx.store.revoke_user_sessions(user.id, ctx.now).await?;
    ctx.audit(
        "user.password",
        subject(&user.login),
        json!({ "sessions_ended": ended }),
    )
    .await?;
    Ok(ended)
}

/// The audit subject of a user.
pub fn subject(login: &str) -> String {
    format!("user:{}", login.chars().take(64).collect::<String>())
}
