//! The `perezvon` command line. `serve` (the default) runs the service; `migrate` applies database
//! migrations; `calendar` answers questions about opening hours (its output formats are an interface
//! scripts rely on); `user` and `token` manage who may use the API; `operator` who answers calls;
//! `stats rebuild` recomputes the statistics' facts from the stored events; `privacy` exports or
//! erases one number's personal data. Every subcommand takes
//! `--config FILE` (or `PEREZVON_CONFIG`).

mod admin;
mod doctor;
pub mod privacy;
mod privacy_mail;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use clap::{Parser, Subcommand};

use crate::calendar::Calendar;
use crate::clock::{Clock, OffsetClock, SystemClock};
use crate::config::Config;
use crate::domain::operator::ContactKind;
use crate::domain::user::{Role, validate_login};
use crate::http::api::calendar::{moscow_rfc3339, parse_instant};
use crate::store::NewAuditEntry;

/// Perezvon: the callback-queue service of the School Portal support hotline.
#[derive(Parser, Debug)]
#[command(name = "perezvon", version, about)]
pub struct Cli {
    /// Configuration file (TOML); PEREZVON_* environment variables override it.
    #[arg(long, global = true, env = "PEREZVON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the service (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// The hotline's working calendar.
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Users who sign in.
    #[command(subcommand)]
    User(UserCmd),
    /// API bearer tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Operators who answer calls.
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// Play realistic Twilio traffic against an instance and report throughput and latency.
    Simulate(crate::simulate::SimulateArgs),
    /// Queue statistics.
    #[command(subcommand)]
    Stats(StatsCmd),
    /// The Zadarma / Novofon PBX.
    #[command(subcommand)]
    Zadarma(ZadarmaCmd),
    /// Check the configuration, the database, the data directory, the providers' credentials and
    /// that `public_url` answers; exit 1 when something failed.
    Doctor,
    /// One phone number's personal data: export it, or erase it (152-FZ).
    #[command(subcommand)]
    Privacy(privacy::PrivacyCmd),
    /// Copy the SQLite database to FILE while the service runs (PostgreSQL: use pg_dump).
    Backup {
        /// The file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ZadarmaCmd {
    /// List the prompt files to upload to the PBX's sound manager (under audio/prompts/), the words
    /// each says, and the file id `zadarma.prompts_file` gives it (empty: missing, the caller will
    /// not hear it).
    Prompts {
        /// Only the files that have no id yet.
        #[arg(long)]
        missing: bool,
        /// Print a `prompts_file` skeleton (`"clip" = "id"`) to fill in instead.
        #[arg(long)]
        toml: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum StatsCmd {
    /// Recompute every call's statistical facts from its stored events (they are kept up to date
    /// as events arrive; this is for checking, or after restoring events from elsewhere).
    Rebuild,
}

/// Options of `perezvon serve`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// Start the service's clock at this instant (RFC 3339, e.g. 2026-12-07T10:00:00+03:00); it
    /// then runs at real speed. For tests and demonstrations: the calendar's "today", routing,
    /// jobs and the API all see the shifted time. Default: the real clock.
    #[arg(long, value_name = "RFC 3339", value_parser = parse_instant)]
    pub clock_start: Option<DateTime<Utc>>,
}

#[derive(Subcommand, Debug)]
pub enum OperatorCmd {
    /// Create an operator tied to user LOGIN (created, with role operator, if missing); starts offline.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// Reached at this phone number (E.164, e.g. +74951234567).
        #[arg(long, group = "contact")]
        phone: Option<String>,
        /// Reached at this SIP URI (sip:user@host).
        #[arg(long, group = "contact")]
        sip: Option<String>,
        /// Reached at this PBX extension.
        #[arg(long, group = "contact")]
        extension: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum CalendarCmd {
    /// Print `date,kind,open,close` for every date in a range (CSV).
    Days {
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: NaiveDate,
    },
    /// Print `start,end` of the window containing the instant, or else the next one.
    NextWindow {
        /// An RFC 3339 instant, e.g. 2026-12-31T10:00:00+03:00.
        #[arg(long)]
        at: String,
    },
    /// Convert an xmlcalendar calendar.xml into the per-year TOML format (printed to stdout).
    ImportXmlcalendar { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        role: Role,
        /// Display name (defaults to the login).
        #[arg(long)]
        name: Option<String>,
    },
    /// Disable a user: their sessions and API tokens stop working at once.
    Disable {
        #[arg(long)]
        login: String,
    },
    /// Enable a disabled user again (their old sessions and tokens stay revoked).
    Enable {
        #[arg(long)]
        login: String,
    },
    /// Set a user's password, read from standard input; their sessions end.
    Password {
        #[arg(long)]
        login: String,
    },
    /// List users: login, role, state, name (CSV).
    List,
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Create a bearer token for a user and print it (shown once; stored hashed).
    Create {
        #[arg(long)]
        login: String,
        /// A note saying what the token is for.
        #[arg(long, default_value = "")]
        label: String,
        /// Days until the token expires (default: `web.token_days`, 90).
        #[arg(long, conflicts_with = "never_expires")]
        days: Option<u32>,
        /// The token never expires (for a monitoring robot; prefer --days).
        #[arg(long)]
        never_expires: bool,
    },
    /// Revoke one token by id, or every token of a login.
    Revoke {
        #[arg(long, required_unless_present = "login", conflicts_with = "login")]
        id: Option<i64>,
        #[arg(long)]
        login: Option<String>,
    },
    /// List tokens (never their values): id, login, label, created, last used, expires, state (CSV).
    List {
        /// Only this login's tokens.
        #[arg(long)]
        login: Option<String>,
    },
}

/// Runs a parsed command line; errors go to stderr with exit code 1.
pub fn main(cli: Cli) -> ExitCode {
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perezvon: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()));
    if let Command::Calendar(c) = command {
        return calendar(&config, c, &mut std::io::stdout().lock());
    }
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match command {
        Command::Serve(args) => {
            crate::init_tracing(config.log_format);
            let clock: Arc<dyn Clock> = match args.clock_start {
                None => Arc::new(SystemClock),
                Some(start) => {
                    let clock = OffsetClock::starting_at(start);
                    tracing::warn!(
                        clock_start = %moscow_rfc3339(start),
                        offset_secs = clock.offset.num_seconds(),
                        "the clock is shifted (--clock-start): the service believes it is {} \
                         and runs on at real speed from there",
                        moscow_rfc3339(start)
                    );
                    Arc::new(clock)
                }
            };
            rt.block_on(crate::run_with_clock(config, clock))
        }
        Command::Migrate => rt.block_on(async {
            let store = crate::store::connect(&config.database_url).await?;
            let h = store.health().await?;
            eprintln!(
                "{}: migrations applied up to version {}",
                h.backend, h.applied_version
            );
            store.close().await;
            Ok(())
        }),
        Command::User(UserCmd::Add { login, role, name }) => {
            validate_login(&login).map_err(anyhow::Error::msg)?;
            let password = read_password()?;
            let hash = crate::secrets::hash_password(&password).map_err(anyhow::Error::msg)?;
            rt.block_on(user_add(&config, login, role, name, hash))
        }
        Command::User(UserCmd::Password { login }) => {
            let password = read_password()?;
            let hash = crate::secrets::hash_password(&password).map_err(anyhow::Error::msg)?;
            rt.block_on(admin::user_password(&config, &login, &hash))
        }
        Command::User(UserCmd::Disable { login }) => {
            rt.block_on(admin::user_disabled(&config, &login, true))
        }
        Command::User(UserCmd::Enable { login }) => {
            rt.block_on(admin::user_disabled(&config, &login, false))
        }
        Command::User(UserCmd::List) => rt.block_on(admin::user_list(&config)),
        Command::Token(TokenCmd::Create {
            login,
            label,
            days,
            never_expires,
        }) => {
            let days = if never_expires {
                None
            } else {
                Some(days.unwrap_or(config.web.token_days))
            };
            rt.block_on(token_create(&config, login, label, days))
        }
        Command::Token(TokenCmd::Revoke { id, login }) => {
            rt.block_on(admin::token_revoke(&config, id, login))
        }
        Command::Token(TokenCmd::List { login }) => rt.block_on(admin::token_list(&config, login)),
        Command::Operator(OperatorCmd::Add {
            login,
            name,
            phone,
            sip,
            extension,
        }) => {
            let (kind, value) = match (phone, sip, extension) {
                (Some(p), None, None) => (ContactKind::Phone, p),
                (None, Some(s), None) => (ContactKind::Sip, s),
                (None, None, Some(e)) => (ContactKind::Extension, e),
                _ => bail!("give exactly one of --phone, --sip, --extension"),
            };
            rt.block_on(operator_add(&config, login, name, kind, value))
        }
        Command::Simulate(args) => rt.block_on(crate::simulate::run(&config, args)),
        Command::Stats(StatsCmd::Rebuild) => rt.block_on(async {
            let store = crate::store::connect(&config.database_url).await?;
            let calls = store.rebuild_facts().await?;
            eprintln!("statistics: facts of {calls} calls rebuilt from their events");
            store.close().await;
            Ok(())
        }),
        Command::Zadarma(ZadarmaCmd::Prompts { missing, toml }) => {
            zadarma_prompts(&config, missing, toml, &mut std::io::stdout().lock())
        }
        Command::Doctor => rt.block_on(async {
            let ok = doctor::doctor(&config, &mut std::io::stdout().lock()).await?;
            if !ok {
                bail!("doctor: some checks failed (FAIL lines above)");
            }
            Ok(())
        }),
        Command::Backup { to } => {
            let Some(src) = crate::store::backup::sqlite_path(&config.database_url) else {
                bail!(
                    "the database is PostgreSQL: back it up with pg_dump (README \"Backup and restore\")"
                );
            };
            let done = crate::store::backup::backup_sqlite(&src, &to)?;
            eprintln!(
                "backup: {} pages, {} bytes written to {} (integrity check ok)",
                done.pages,
                done.bytes,
                to.display()
            );
            Ok(())
        }
        Command::Privacy(cmd) => {
            rt.block_on(privacy::run(&config, cmd, &mut std::io::stdout().lock()))
        }
        Command::Calendar(_) => unreachable!("handled above"),
    }
}

/// `perezvon zadarma prompts`: every clip of the prompt catalogue with its words and file id.
pub fn zadarma_prompts(
    config: &Config,
    missing: bool,
    toml: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let empty = std::collections::BTreeMap::new();
    let ids = config.zadarma.as_ref().map_or(&empty, |z| &z.prompts);
    let rows = crate::speech::catalogue()
        .into_iter()
        .map(|(clip, text)| {
            let id = ids.get(&clip).cloned().unwrap_or_default();
            (clip, text, id)
        })
        .filter(|(_, _, id)| !missing || id.is_empty());
    if toml {
        writeln!(
            out,
            "# zadarma.prompts_file: clip = file id in the PBX's sound manager"
        )?;
        for (clip, text, id) in rows {
            writeln!(out, "# {text}")?;
            writeln!(out, "{} = {}", toml_str(&clip), toml_str(&id))?;
        }
    } else {
        writeln!(out, "file;id;text")?;
        for (clip, text, id) in rows {
            writeln!(out, "audio/prompts/{clip};{id};{text}")?;
        }
    }
    Ok(())
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The `calendar` subcommands, writing to `out`.
pub fn calendar(config: &Config, cmd: CalendarCmd, out: &mut impl Write) -> anyhow::Result<()> {
    if let CalendarCmd::ImportXmlcalendar { file } = &cmd {
        let xml = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let toml = crate::calendar::xmlcalendar::to_toml(&xml)?;
        out.write_all(toml.as_bytes())?;
        return Ok(());
    }
    let cal = crate::load_calendar(config)?;
    match cmd {
        CalendarCmd::Days { from, to } => {
            if to < from {
                bail!("--to {to} is before --from {from}");
            }
            warn_missing(&cal, from.year(), to.year());
            writeln!(out, "date,kind,open,close")?;
            for d in from.iter_days().take_while(|d| *d <= to) {
                let day = cal.day(d);
                let (open, close) = match &day.hours {
                    Some(h) => (
                        h.open.format("%H:%M").to_string(),
                        h.close.format("%H:%M").to_string(),
                    ),
                    None => (String::new(), String::new()),
                };
                writeln!(out, "{d},{},{open},{close}", day.kind.as_str())?;
            }
        }
        CalendarCmd::NextWindow { at } => {
            let t = parse_instant(&at)
                .map_err(anyhow::Error::msg)
                .context("--at")?;
            let year = t
                .with_timezone(&crate::calendar::MOSCOW)
                .date_naive()
                .year();
            warn_missing(&cal, year, year + 1);
            let w = cal
                .window_at_or_after(t)
                .context("the hotline has no opening hours in the coming year")?;
            writeln!(out, "{},{}", moscow_rfc3339(w.start), moscow_rfc3339(w.end))?;
        }
        CalendarCmd::ImportXmlcalendar { .. } => unreachable!("handled above"),
    }
    Ok(())
}

fn warn_missing(cal: &Calendar, from: i32, to: i32) {
    for y in cal.missing_years(from, to) {
        eprintln!(
            "perezvon: warning: no production-calendar data for {y}; using plain rules \
             (fixed holidays, automatic weekend shift) — add {y}.toml to the calendar directory"
        );
    }
}

fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        bail!("no password given on standard input");
    }
    Ok(password)
}

async fn user_add(
    config: &Config,
    login: String,
    role: Role,
    name: Option<String>,
    hash: String,
) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    let ctx = cli_ctx(&*store);
    let name = match name {
        Some(n) => crate::admin::checked_name(&n)?,
        None => login.clone(),
    };
    let created = crate::admin::users::create_hashed(ctx, login, name, role, hash).await?;
    eprintln!(
        "created {} `{}` (id {})",
        created.role, created.login, created.id
    );
    store.close().await;
    Ok(())
}

/// The administration context of the command line: actor `cli`, the real clock.
pub(crate) fn cli_ctx(store: &dyn crate::store::Store) -> crate::admin::Ctx<'_> {
    crate::admin::Ctx {
        store,
        actor: "cli",
        now: chrono::Utc::now(),
    }
}

async fn token_create(
    config: &Config,
    login: String,
    label: String,
    days: Option<u32>,
) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    let now = chrono::Utc::now();
    let user = store
        .user_by_login(&login)
        .await?
        .with_context(|| format!("no user `{login}`"))?;
    if user.disabled {
        bail!("user `{login}` is disabled");
    }
    let (token, hash) = crate::secrets::new_token();
    let expires = days.map(|d| now + TimeDelta::days(i64::from(d)));
    store
        .create_token(user.id, &hash, &label, expires, now)
        .await?;
    store
        .audit(&cli_audit("token.create", &login, &label), now)
        .await?;
    println!("{token}");
    store.close().await;
    Ok(())
}

async fn operator_add(
    config: &Config,
    login: String,
    name: String,
    kind: ContactKind,
    contact: String,
) -> anyhow::Result<()> {
    let store = crate::store::connect(&config.database_url).await?;
    let input = crate::admin::operators::NewOperatorInput {
        login: login.clone(),
        name,
        contact_kind: kind,
        contact,
    };
    let op = crate::admin::operators::create(cli_ctx(&*store), &input).await?;
    eprintln!("created operator `{login}` (id {}, {kind}, offline)", op.id);
    store.close().await;
    Ok(())
}

pub(crate) fn cli_audit(action: &str, login: &str, detail: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: "cli".into(),
        action: action.into(),
        subject: format!("user:{login}"),
        detail: serde_json::json!({ "detail": detail }).to_string(),
        request_id: None,
    }
}
