//! Where a flood goes, and what it sets up and checks there: an instance started in this process
//! on a chosen clock and database, with the fake Twilio REST API beside it, or an external
//! `--target` whose signing secrets and database come from `--config`.
//!
//! In working hours the simulated operators (`staff::enlist`) are seated `available` through the
//! API before the flood; an external target gets them back `offline` afterwards, as found. After
//! the flood every answered CallSid is looked up in the store (eight lookups at a time), which is
//! how the report tells that each request became one stored call.

use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};

use super::fake_api::{FakeApi, Mailboxes};
use super::flood::call_sid;
use super::instance::{ACCOUNT_SID, AUTH_TOKEN, Instance};
use super::staff::{self, Staff};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::operator::Presence;
use crate::store::Store;

/// Where the requests go, how they are signed, and the database behind.
pub(super) struct Target {
    /// Scheme, host and port requests are sent to.
    pub base: String,
    /// What signatures are computed for.
    pub public_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The hotline's number (`To`).
    pub to_number: String,
    pub store: Arc<dyn Store>,
    /// The instance's "now" (real time for an external target).
    pub now: DateTime<Utc>,
    instance: Option<Instance>,
    fake: Option<FakeApi>,
    staff: Option<Staff>,
    http: reqwest::Client,
}

impl Target {
    /// Starts an instance in this process on `clock`, its store at `database_url` (default: SQLite
    /// in a temporary directory).
    pub async fn in_process(
        config: &Config,
        clock: Arc<dyn Clock>,
        database_url: Option<&str>,
    ) -> anyhow::Result<Target> {
        let mailboxes = Arc::new(Mailboxes::default());
        let api_listen = "127.0.0.1:0".parse()?;
        let fake = FakeApi::start(api_listen, ACCOUNT_SID, AUTH_TOKEN, mailboxes).await?;
        let inst = Instance::start_on(config, &fake.base_url(), 1.0, clock, database_url).await?;
        Ok(Target {
            base: inst.base.clone(),
            public_url: inst.base.clone(),
            account_sid: ACCOUNT_SID.into(),
            auth_token: AUTH_TOKEN.into(),
            to_number: "+74950000000".into(),
            store: inst.store.clone(),
            now: inst.clock.now(),
            instance: Some(inst),
            fake: Some(fake),
            staff: None,
            http: super::wire::client()?,
        })
    }

    /// A running instance at `url`, described by `config`.
    pub async fn external(config: &Config, url: &str) -> anyhow::Result<Target> {
        let Some(tw) = &config.twilio else {
            bail!("--target needs the target's [twilio] account_sid and auth_token in --config");
        };
        let store = crate::store::connect(&config.database_url)
            .await
            .context("cannot open the target's database (config key `database_url`)")?;
        Ok(Target {
            base: url.trim_end_matches('/').to_owned(),
            public_url: config.public_url.clone(),
            account_sid: tw.account_sid.clone(),
            auth_token: tw.auth_token.expose().to_owned(),
            to_number: tw
                .from_number
                .clone()
                .unwrap_or_else(|| "+74950000000".into()),
            store,
            now: Utc::now(),
            instance: None,
            fake: None,
            staff: None,
            http: super::wire::client()?,
        })
    }

    pub fn in_process_instance(&self) -> bool {
        self.instance.is_some()
    }

    /// Creates `operators` simulated operators and makes them available.
    pub async fn seat(&mut self, operators: usize) -> anyhow::Result<()> {
        let staff = staff::enlist(&*self.store, operators, self.now).await?;
        for (login, token) in &staff.operators {
            staff::set_presence(&self.http, &self.base, login, token, Presence::Available).await?;
        }
        self.staff = Some(staff);
        Ok(())
    }

    /// How many operators were seated.
    pub fn operators(&self) -> usize {
        self.staff.as_ref().map_or(0, |s| s.operators.len())
    }

    /// How many of the answered requests (indexes into the run tagged `tag`) the store holds as
    /// calls, and the first few CallSids it does not hold.
    pub async fn stored(&self, tag: u32, answered: &[u64]) -> anyhow::Result<(u64, Vec<String>)> {
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in answered.chunks(answered.len().div_ceil(8).max(1)) {
            let (store, chunk) = (self.store.clone(), chunk.to_vec());
            tasks.spawn(async move {
                let (mut found, mut missing) = (0, Vec::new());
                for i in chunk {
                    let sid = call_sid(tag, i);
                    match store.call_by_provider_id("twilio", &sid).await? {
                        Some(_) => found += 1,
                        None if missing.len() < 5 => missing.push(sid),
                        None => {}
                    }
                }
                anyhow::Ok((found, missing))
            });
        }
        let (mut found, mut missing) = (0, Vec::new());
        while let Some(r) = tasks.join_next().await {
            let (f, m) = r??;
            found += f;
            missing.extend(m);
        }
        missing.truncate(5);
        Ok((found, missing))
    }

    /// Stops the in-process instance, or seats an external one's simulated operators `offline`
    /// and closes its store.
    pub async fn finish(self) {
        match self.instance {
            Some(instance) => instance.stop().await,
            None => {
                for (login, token) in self.staff.iter().flat_map(|s| &s.operators) {
                    let p = Presence::Offline;
                    let _ = staff::set_presence(&self.http, &self.base, login, token, p).await;
                }
                self.store.close().await;
            }
        }
        drop(self.fake);
    }
}
