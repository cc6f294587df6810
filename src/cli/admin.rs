//! `perezvon user …` and `perezvon token …` beyond creation: disabling and enabling users, setting
//! a password, and the token register (list, revoke). Every change goes to the audit log as `cli`.
//! Lists are CSV on stdout (an interface scripts may rely on); instants are Moscow time.

use anyhow::{Context, bail};
use chrono::Utc;

use super::{cli_audit, cli_ctx};
use crate::config::Config;
use crate::http::api::calendar::moscow_rfc3339;

/// `perezvon user password --login L`.
pub(super) async fn user_password(config: &Config, login: &str, hash: &str) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    let ctx = cli_ctx(&*store);
    let user = crate::admin::users::existing(ctx, login).await?;
    let ended = crate::admin::users::set_password_hashed(ctx, &user, hash).await?;
    eprintln!("password of `{login}` set; {ended} session(s) ended");
    store.close().await;
    Ok(())
}

/// `perezvon user disable|enable --login L` (the last enabled administrator stays enabled).
pub(super) async fn user_disabled(
    config: &Config,
    login: &str,
    disabled: bool,
) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    crate::admin::users::set_disabled(cli_ctx(&*store), login, disabled).await?;
    if disabled {
        eprintln!("disabled `{login}`; their sessions and tokens no longer work");
    } else {
        eprintln!("enabled `{login}`");
    }
    store.close().await;
    Ok(())
}

/// `perezvon user list`.
pub(super) async fn user_list(config: &Config) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    println!("login,role,state,name");
    for u in store.users().await? {
        let state = if u.disabled { "disabled" } else { "enabled" };
        println!("{},{},{state},{}", u.login, u.role, csv(&u.display_name));
    }
    store.close().await;
    Ok(())
}

/// `perezvon token revoke --id N | --login L`.
pub(super) async fn token_revoke(
    config: &Config,
    id: Option<i64>,
    login: Option<String>,
) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    let now = Utc::now();
    match (id, login) {
        (Some(id), _) => {
            let tokens = store.tokens("").await?;
            let Some(t) = tokens.iter().find(|t| t.id == id) else {
                bail!("no token {id}");
            };
            if !store.revoke_token(id, now).await? {
                bail!("token {id} is revoked already");
            }
            store
                .audit(&cli_audit("token.revoke", &t.login, &id.to_string()), now)
                .await?;
            eprintln!("revoked token {id} of `{}`", t.login);
        }
        (None, Some(login)) => {
            store
                .user_by_login(&login)
                .await?
                .with_context(|| format!("no user `{login}`"))?;
            let n = store.revoke_tokens(&login, now).await?;
            store
                .audit(&cli_audit("token.revoke", &login, "all"), now)
                .await?;
            eprintln!("revoked {n} token(s) of `{login}`");
        }
        (None, None) => bail!("give --id or --login"),
    }
    store.close().await;
    Ok(())
}

/// `perezvon token list [--login L]`.
pub(super) async fn token_list(config: &Config, login: Option<String>) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    let now = Utc::now();
    let at = |t: Option<chrono::DateTime<Utc>>| t.map(moscow_rfc3339).unwrap_or_default();
    println!("id,login,label,created,last_used,expires,state");
    for t in store.tokens(login.as_deref().unwrap_or("")).await? {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.is_live(now) {
            "live"
        } else {
            "expired"
        };
        println!(
            "{},{},{},{},{},{},{state}",
            t.id,
            t.login,
            csv(&t.label),
            moscow_rfc3339(t.created_at),
            at(t.last_used_at),
            at(t.expires_at),
        );
    }
    store.close().await;
    Ok(())
}

/// A CSV field, quoted when it needs to be.
fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
