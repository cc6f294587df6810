//! A private PostgreSQL server for fault tests that stop and start the database under a running
//! service. The shared server of `PEREZVON_TEST_POSTGRES_URL` is never touched: this is a cluster
//! of its own (`initdb` from Debian's `/usr/lib/postgresql/<version>/bin`) in a temporary
//! directory, run as the `postgres` user when the tests run as root (CI) and as the current user
//! otherwise, listening on 127.0.0.1 on a free port with its unix sockets in that directory and
//! `fsync=off` (it holds nothing worth keeping). It is stopped at once and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct PrivatePg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Run the server's programs as `postgres` (we are root, which PostgreSQL refuses).
    as_postgres: bool,
}

/// The newest `bin` directory of Debian's PostgreSQL packages that has `initdb` and `pg_ctl`.
fn server_bin() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, b)| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivatePg {
    /// Creates and starts the cluster; `None` (after printing `SKIPPED (...)`) when this machine
    /// cannot run one.
    pub fn start() -> Option<PrivatePg> {
        let Some(bin) = server_bin() else {
            eprintln!(
                "SKIPPED (private PostgreSQL): no initdb under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
            );
            return None;
        };
        let as_postgres = is_root();
        let works = |program: &str, arg: &str| {
            Command::new(program)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if as_postgres && !(works("id", "postgres") && works("runuser", "--version")) {
            eprintln!(
                "SKIPPED (private PostgreSQL): running as root without a `postgres` user (or runuser) to run the server as"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        if as_postgres {
            let chown = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status();
            assert!(chown.is_ok_and(|s| s.success()), "chown postgres {dir:?}");
        }
        let pg = PrivatePg {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        let data = pg.data();
        let o = pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
        if !o.status.success() {
            eprintln!(
                "SKIPPED (private PostgreSQL): initdb failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return None;
        }
        pg.start_again();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's programs (as `postgres` when we are root).
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        // The server inherits the working directory: one it can read.
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// The URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c fsync=off -c full_page_writes=off -c synchronous_commit=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let data = self.data();
        let o = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
        assert!(o.status.success(), "pg_ctl start: {}", self.explain(&o));
    }

    /// Stops the server the way an administrator restarting it does (`pg_ctl stop -m fast`:
    /// sessions are terminated, transactions rolled back) and waits until it is down.
    pub fn stop(&self) {
        let o = self.pg_ctl_stop("fast");
        assert!(o.status.success(), "pg_ctl stop: {}", self.explain(&o));
    }

    fn pg_ctl_stop(&self, mode: &str) -> Output {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", mode, "-w", "stop"],
        )
    }

    fn explain(&self, o: &Output) -> String {
        format!(
            "{}{}\n--- server.log ---\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            self.log()
        )
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The temporary directory (the data directory is `data` in it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        // Harmless when it is already stopped.
        let _ = self.pg_ctl_stop("immediate");
    }
}
