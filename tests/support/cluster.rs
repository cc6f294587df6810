//! Two `perezvon serve` processes (the built binary) on one fresh PostgreSQL database, listening on
//! 127.0.0.2 and 127.0.0.3 (127.0.0.1 with two ports where those cannot be bound), behind Debian's
//! nginx started here (its own master, `daemon off`, config, logs and temp files in a temporary
//! directory, round-robin over both). The instances are in working hours (`--clock-start`), signed
//! for the proxy's URL, with `twilio.api_base` at a port kept free for `perezvon simulate`'s fake
//! REST API. Everything is killed and the database dropped when the [`Cluster`] is dropped.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

/// The hotline's account in the instances' configuration.
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "cluster-token";
/// Monday 10:00 in Moscow: the hotline is open.
pub const CLOCK_START: &str = "2026-12-07T10:00:00+03:00";

pub struct Cluster {
    pub dir: tempfile::TempDir,
    admin_url: String,
    pub database: String,
    pub database_url: String,
    pub instances: Vec<SocketAddr>,
    children: Vec<Option<Child>>,
    nginx: Option<Child>,
    pub proxy: SocketAddr,
    pub fake_api: SocketAddr,
}

fn free_addr(ip: &str) -> Option<SocketAddr> {
    TcpListener::bind((ip, 0)).ok()?.local_addr().ok()
}

fn nginx_binary() -> Option<String> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
}

async fn answers(url: &str, within: Duration) -> bool {
    let client = reqwest::Client::new();
    let until = Instant::now() + within;
    while Instant::now() < until {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

impl Cluster {
    /// Starts the cluster on a fresh database of the PostgreSQL at `pg_url`; `None` (after
    /// printing `SKIPPED (nginx)`) when nginx is missing or does not start.
    pub async fn start(pg_url: &str) -> Option<Cluster> {
        let Some(nginx) = nginx_binary() else {
            eprintln!("SKIPPED (nginx): nginx is not installed (apt-get install -y nginx)");
            return None;
        };
        let database = format!("pzv_multi_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(pg_url)
            .await
            .expect("PEREZVON_TEST_POSTGRES_URL must connect");
        sqlx::query(&format!("create database {database}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(pg_url).unwrap();
        url.set_path(&format!("/{database}"));
        let dir = tempfile::tempdir().unwrap();
        let ips = match (free_addr("127.0.0.2"), free_addr("127.0.0.3")) {
            (Some(a), Some(b)) => [a, b],
            _ => [
                free_addr("127.0.0.1").unwrap(),
                free_addr("127.0.0.1").unwrap(),
            ],
        };
        let mut cluster = Cluster {
            admin_url: pg_url.to_owned(),
            database,
            database_url: url.to_string(),
            instances: ips.to_vec(),
            children: Vec::new(),
            nginx: None,
            proxy: free_addr("127.0.0.1").unwrap(),
            fake_api: free_addr("127.0.0.1").unwrap(),
            dir,
        };
        let o = cluster.perezvon(&["migrate"], None);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for i in 0..2 {
            cluster.children.push(Some(cluster.spawn_instance(i)));
        }
        for a in &cluster.instances {
            assert!(
                answers(&format!("http://{a}/healthz"), Duration::from_secs(30)).await,
                "instance {a} did not start: {}",
                cluster.logs()
            );
        }
        if !cluster.start_nginx(&nginx).await {
            let err = std::fs::read_to_string(cluster.dir.path().join("error.log"));
            eprintln!("SKIPPED (nginx): nginx did not start: {err:?}");
            return None;
        }
        Some(cluster)
    }

    /// The environment every `perezvon` process of the cluster gets.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("DATABASE_URL", self.database_url.clone()),
            ("PUBLIC_URL", format!("http://{}", self.proxy)),
            ("TWILIO__ACCOUNT_SID", ACCOUNT_SID.into()),
            ("TWILIO__AUTH_TOKEN", AUTH_TOKEN.into()),
            ("TWILIO__API_BASE", format!("http://{}", self.fake_api)),
            ("ROUTING__WRAP_UP_SECS", "0".into()),
            ("ROUTING__QUEUE_MAX_WAIT_SECS", "600".into()),
            // A killed instance's jobs (a recording being downloaded) are taken over within 3 s.
            ("JOB_LEASE_SECONDS", "3".into()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("PEREZVON_{k}"), v))
        .collect()
    }

    /// Runs a `perezvon` subcommand against the cluster's database.
    pub fn perezvon(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = self.spawn_perezvon(args);
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            std::io::Write::write_all(&mut input, s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// Starts a `perezvon` subcommand against the cluster's database (stdin, stdout and stderr
    /// piped).
    pub fn spawn_perezvon(&self, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_perezvon"))
            .args(args)
            .envs(self.env())
            .env("PEREZVON_DATA_DIR", self.dir.path().join("cli"))
            .env_remove("PEREZVON_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Starts `perezvon simulate --json` through the proxy: `calls` calls at 12 a second to three
    /// operators talking about a second each (so callers queue), time compressed a hundredfold.
    pub fn spawn_simulate(&self, calls: usize, seed: u64) -> Child {
        let (proxy, fake) = (format!("http://{}", self.proxy), self.fake_api.to_string());
        let (calls, seed) = (calls.to_string(), seed.to_string());
        self.spawn_perezvon(&[
            "simulate",
            "--target",
            &proxy,
            "--fake-api-listen",
            &fake,
            "--calls",
            &calls,
            "--rate",
            "12",
            "--operators",
            "3",
            "--talk-secs",
            "1",
            "--time-scale",
            "0.01",
            "--seed",
            &seed,
            "--json",
        ])
    }

    /// The report of a finished simulation of `calls` calls, checked: the run succeeded, every
    /// call ended without an error as the caller saw it and on the server, every webhook got its
    /// reply, and no operator's phone was rung for a second call at once.
    pub fn simulated(&self, o: &Output, calls: usize) -> serde_json::Value {
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "simulate failed: {}\n{stdout}\n{}",
            String::from_utf8_lossy(&o.stderr),
            self.logs()
        );
        let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        for (field, want) in [
            (&r["calls_started"], calls),
            (&r["calls_finished"], calls),
            (&r["server"]["seen"], calls),
            (&r["webhook_errors"], 0),
            (&r["outcomes"]["error"], 0),
            (&r["server"]["unfinished"], 0),
            (&r["queue"]["double_booked"], 0),
        ] {
            assert_eq!(field.as_u64(), Some(want as u64), "{stdout}");
        }
        r
    }

    fn spawn_instance(&self, i: usize) -> Child {
        let log = std::fs::File::create(self.dir.path().join(format!("instance{i}.log"))).unwrap();
        Command::new(env!("CARGO_BIN_EXE_perezvon"))
            .args(["serve", "--clock-start", CLOCK_START])
            .envs(self.env())
            .env("PEREZVON_LISTEN", self.instances[i].to_string())
            .env(
                "PEREZVON_DATA_DIR",
                self.dir.path().join(format!("data{i}")),
            )
            .env("PEREZVON_LOG", "info,sqlx=warn,tower_http=warn")
            .env_remove("PEREZVON_CONFIG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    async fn start_nginx(&mut self, nginx: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        let d = self.dir.path();
        // Workers may run as another user: they must reach the temp directories.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tmp = d.join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o777)).unwrap();
        let d = d.display();
        let [a, b] = [self.instances[0], self.instances[1]];
        let conf = format!(
            "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
               log_format up '$status $request_method $request_uri|$request_body|$upstream_addr';\n\
               access_log {d}/access.log up;\n\
               client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy;\n\
               fastcgi_temp_path {d}/tmp/fastcgi; uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;\n\
               upstream perezvon {{ server {a} max_fails=0; server {b} max_fails=0; keepalive 32; }}\n\
               server {{\n\
                 listen {proxy};\n\
                 location / {{\n\
                   proxy_pass http://perezvon;\n\
                   proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n\
                   proxy_set_header Host $http_host;\n\
                   proxy_buffering off;\n\
                   proxy_read_timeout 60s;\n\
                   proxy_next_upstream error timeout non_idempotent;\n\
                 }}\n\
               }}\n\
             }}\n",
            proxy = self.proxy,
        );
        let path = self.dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(self.dir.path())
            .arg("-c")
            .arg(&path)
            .arg("-e")
            .arg(self.dir.path().join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            return false;
        };
        self.nginx = Some(child);
        answers(
            &format!("http://{}/healthz", self.proxy),
            Duration::from_secs(10),
        )
        .await
    }

    /// Requests nginx passed to each instance (from its access log), by the instance's address.
    pub fn upstream_counts(&self) -> BTreeMap<String, usize> {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        let mut counts = BTreeMap::new();
        for line in log.lines() {
            // `$upstream_addr` lists every upstream tried, the last being the one that answered.
            if let Some((_, up)) = line.rsplit_once('|') {
                let last = up.rsplit(", ").next().unwrap_or(up).trim().to_owned();
                *counts.entry(last).or_default() += 1;
            }
        }
        counts
    }

    /// Every request nginx answered: (status, path with query, form body), from its access log.
    /// nginx escapes `"`, `\` and bytes outside printable ASCII in the body as `\xNN`; a form body
    /// is percent-encoded ASCII, so it comes through as sent.
    pub fn answered(&self) -> Vec<(u16, String, String)> {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let (head, rest) = line.split_once('|')?;
                let (body, _) = rest.rsplit_once('|')?;
                let mut h = head.splitn(3, ' ');
                let status = h.next()?.parse().ok()?;
                let _method = h.next()?;
                let uri = h.next()?.to_owned();
                let body = if body == "-" {
                    String::new()
                } else {
                    body.to_owned()
                };
                Some((status, uri, body))
            })
            .collect()
    }

    /// Both instances' logs, for failure messages.
    pub fn logs(&self) -> String {
        (0..2)
            .map(|i| {
                let log = std::fs::read_to_string(self.dir.path().join(format!("instance{i}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                format!(
                    "--- instance {i} (last lines) ---\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One instance's whole log.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("instance{i}.log")))
            .unwrap_or_default()
    }

    /// Kills instance `i` at once (SIGKILL).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self
            .children
            .iter_mut()
            .filter_map(Option::take)
            .chain(self.nginx.take())
        {
            let mut c = c;
            let _ = c.kill();
            let _ = c.wait();
        }
        let (admin, db) = (self.admin_url.clone(), self.database.clone());
        // Dropped from a thread of its own: this may run inside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(&format!("drop database if exists {db} with (force)"))
                            .execute(&mut c)
                            .await;
                    }
                });
            }
        })
        .join();
    }
}
