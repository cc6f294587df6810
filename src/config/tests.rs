//! Tests of configuration loading: defaults, file, environment overrides, errors naming keys.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), text).unwrap();
    f
}

fn err_of(file: Option<&str>, vars: &[(&str, &str)]) -> String {
    let f = file.map(write);
    Config::load_with_env(f.as_ref().map(|f| f.path()), env(vars))
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_need_no_file() {
    let c = Config::load_with_env(None, env(&[])).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.public_url, "http://127.0.0.1:8080");
    assert_eq!(c.data_dir, PathBuf::from("./var"));
    assert_eq!(c.database_url.expose(), "sqlite://./var/perezvon.db");
    assert_eq!(c.max_body_bytes, 1 << 20);
    assert_eq!(c.hours.shortened_by, TimeDelta::minutes(60));
    assert!(c.hours.weekly[5].is_none() && c.hours.weekly[0].is_some());
}

#[test]
fn file_then_env_override() {
    let f = write(
        "listen = \"0.0.0.0:9000\"\npublic_url = \"https://hotline.example.ru/\"\ndata_dir = \"/srv/pz\"\n\
         [hours]\nfri = \"09:00-16:45\"\nshortened_by_minutes = 30\n",
    );
    let c = Config::load_with_env(
        Some(f.path()),
        env(&[
            ("PEREZVON_LISTEN", "127.0.0.1:7000"),
            ("PEREZVON_HOURS__SHORTENED_BY_MINUTES", "0"),
            ("PEREZVON_TEST_POSTGRES_URL", "postgres://ignored"),
            ("PEREZVON_CONFIG", "/ignored.toml"),
            ("OTHER", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
    assert_eq!(c.public_url, "https://hotline.example.ru");
    assert_eq!(c.database_url.expose(), "sqlite:///srv/pz/perezvon.db");
    assert_eq!(c.hours.shortened_by, TimeDelta::zero());
    let fri = c.hours.weekly[4].as_ref().unwrap();
    assert_eq!(fri.close.to_string(), "16:45:00");
}

#[test]
fn errors_name_the_key() {
    assert!(err_of(Some("listen = \"nowhere\""), &[]).contains("`listen`"));
    assert!(err_of(Some("[hours]\nmon = \"18:00-09:00\""), &[]).contains("`hours.mon`"));
    assert!(
        err_of(Some("[hours]\nshortened_by_minutes = 500"), &[])
            .contains("hours.shortened_by_minutes")
    );
    assert!(err_of(Some("[hourz]\nmon = \"x\""), &[]).contains("hourz"));
    assert!(err_of(Some("[hours]\nmonday = \"09:00-18:00\""), &[]).contains("hours"));
    assert!(err_of(None, &[("PEREZVON_DATABASE_URL", "mysql://x")]).contains("`database_url`"));
    let e = err_of(None, &[("PEREZVON_MAX_BODY_BYTES", "lots")]);
    assert!(e.contains("max_body_bytes") && e.contains("lots"), "{e}");
    let e = err_of(None, &[("PEREZVON_NO_SUCH", "1")]);
    assert!(e.contains("no_such"), "{e}");
    assert!(err_of(Some("public_url = \"ftp://x\""), &[]).contains("`public_url`"));
    assert!(err_of(Some("listen = "), &[]).contains("config file"));
    let all_closed = "[hours]\nmon=\"closed\"\ntue=\"\"\nwed=\"\"\nthu=\"\"\nfri=\"\"\n";
    assert!(err_of(Some(all_closed), &[]).contains("`hours`"));
}

#[test]
fn database_password_never_shown() {
    let c = Config::load_with_env(
        None,
        env(&[(
            "PEREZVON_DATABASE_URL",
            "postgres://pz:s3cr3t-pw@db.local:5432/pz",
        )]),
    )
    .unwrap();
    assert!(c.database_url.is_postgres());
    let shown = format!("{c:?} {}", c.database_url);
    assert!(!shown.contains("s3cr3t-pw"), "{shown}");
    assert!(shown.contains("db.local"));
    let e = err_of(None, &[("PEREZVON_DATABASE_URL", "mysql://u:hunter2@x/db")]);
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn twilio_and_routing_sections() {
    let c = Config::load_with_env(None, env(&[])).unwrap();
    assert!(c.twilio.is_none());
    assert_eq!(c.routing, RoutingSettings::default());
    let sid = "AC0123456789abcdef0123456789abcdef";
    let c = Config::load_with_env(
        None,
        env(&[
            ("PEREZVON_TWILIO__ACCOUNT_SID", sid),
            ("PEREZVON_TWILIO__AUTH_TOKEN", "tok-very-secret"),
            ("PEREZVON_TWILIO__SPEECH", "tts"),
            ("PEREZVON_ROUTING__QUEUE_MAX_WAIT_SECS", "90"),
            ("PEREZVON_ROUTING__AUTOPAUSE_AFTER_MISSES", "0"),
        ]),
    )
    .unwrap();
    let t = c.twilio.as_ref().unwrap();
    assert_eq!(
        (t.account_sid.as_str(), t.api_base.as_str()),
        (sid, "https://api.twilio.com")
    );
    assert_eq!(
        t.speech,
        Speech::Tts {
            voice: "Polly.Tatyana".into()
        }
    );
    assert_eq!(c.routing.queue_max_wait, TimeDelta::seconds(90));
    assert_eq!(c.routing.autopause_after, 0);
    assert!(!format!("{c:?}").contains("tok-very-secret"));
    assert!(err_of(None, &[("PEREZVON_TWILIO__ACCOUNT_SID", sid)]).contains("twilio.auth_token"));
    assert!(err_of(None, &[("PEREZVON_TWILIO__AUTH_TOKEN", "x")]).contains("twilio.account_sid"));
    assert!(
        err_of(
            None,
            &[
                ("PEREZVON_TWILIO__ACCOUNT_SID", "AC1"),
                ("PEREZVON_TWILIO__AUTH_TOKEN", "x")
            ]
        )
        .contains("twilio.account_sid")
    );
    let e = err_of(None, &[("PEREZVON_ROUTING__RING_TIMEOUT_SECS", "1")]);
    assert!(e.contains("routing.ring_timeout_secs"), "{e}");
    assert!(err_of(Some("[twilio]\nspeech = \"loud\"\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"t\""), &[]).contains("twilio.speech"));
}

#[test]
fn the_deploy_example_loads_and_matches_the_defaults() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/perezvon.toml"));
    let c = Config::load_with_env(Some(path), env(&[])).unwrap();
    let d = Config::load_with_env(None, env(&[])).unwrap();
    assert_eq!(
        format!("{c:?}"),
        format!("{d:?}"),
        "the example documents the defaults"
    );
}

#[test]
fn callbacks_section() {
    let f = write(
        "[callbacks]\nsla_minutes = 240\nstaff_credit_minutes = 0\nmax_attempts = 5\n\
         topics = [{ code = \"grades\", label = \"Отметки\" }]\n",
    );
    let c = Config::load_with_env(
        Some(f.path()),
        env(&[("PEREZVON_CALLBACKS__LEASE_MINUTES", "20")]),
    )
    .unwrap();
    let cb = &c.callbacks;
    assert_eq!(cb.sla, TimeDelta::hours(4));
    assert_eq!(cb.priority.staff_credit, TimeDelta::zero());
    assert_eq!(cb.priority.repeat_credit, TimeDelta::minutes(30));
    assert_eq!(cb.max_attempts, 5);
    assert_eq!(cb.lease, TimeDelta::minutes(20));
    assert_eq!(cb.topics.len(), 1);
    assert_eq!(cb.topic("grades").unwrap().label, "Отметки");
    assert!(cb.topic("timetable").is_none());
    let d = Config::default().callbacks;
    assert_eq!(d.topics.len(), 8);
    assert_eq!(d.sla, TimeDelta::hours(8));

    let e = err_of(Some("[callbacks]\nmax_attempts = 0\n"), &[]);
    assert!(e.contains("callbacks.max_attempts"), "{e}");
    let e = err_of(None, &[("PEREZVON_CALLBACKS__SHARE_PERCENT", "lots")]);
    assert!(e.contains("callbacks.share_percent"), "{e}");
    let e = err_of(Some("[callbacks]\ntopics = []\n"), &[]);
    assert!(e.contains("callbacks.topics"), "{e}");
    let e = err_of(
        Some("[callbacks]\ntopics = [{ code = \"Bad Code\", label = \"x\" }]\n"),
        &[],
    );
    assert!(
        e.contains("callbacks.topics") && e.contains("Bad Code"),
        "{e}"
    );
    let e = err_of(Some("[callbacks]\nsla = 5\n"), &[]);
    assert!(e.contains("callbacks"), "{e}");
}

#[test]
fn twilio_request_timeout() {
    let sid = "AC0123456789abcdef0123456789abcdef";
    let load = |timeout: Option<&str>| {
        let mut vars = vec![
            ("PEREZVON_TWILIO__ACCOUNT_SID", sid),
            ("PEREZVON_TWILIO__AUTH_TOKEN", "t"),
        ];
        vars.extend(timeout.map(|t| ("PEREZVON_TWILIO__REQUEST_TIMEOUT_SECS", t)));
        Config::load_with_env(None, env(&vars)).map(|c| c.twilio.unwrap().request_timeout)
    };
    assert_eq!(load(None).unwrap(), std::time::Duration::from_secs(10));
    assert_eq!(load(Some("3")).unwrap(), std::time::Duration::from_secs(3));
    for bad in ["0", "121", "soon", "-1"] {
        let e = load(Some(bad)).unwrap_err().to_string();
        assert!(e.contains("`twilio.request_timeout_secs`"), "{bad}: {e}");
    }
}

#[test]
fn twilio_sms_from() {
    let sid = "AC0123456789abcdef0123456789abcdef";
    let load = |sms_from: &str| {
        Config::load_with_env(
            None,
            env(&[
                ("PEREZVON_TWILIO__ACCOUNT_SID", sid),
                ("PEREZVON_TWILIO__AUTH_TOKEN", "t"),
                ("PEREZVON_TWILIO__SMS_FROM", sms_from),
            ]),
        )
        .map(|c| c.twilio.unwrap().sms_from)
    };
    assert_eq!(load("").unwrap(), None, "empty: no SMS");
    assert_eq!(load(" ").unwrap(), None);
    assert_eq!(
        load("+74950000000").unwrap().as_deref(),
        Some("+74950000000")
    );
    assert_eq!(
        load(" +12025550123 ").unwrap().as_deref(),
        Some("+12025550123")
    );
    let mg = "MG0123456789abcdef0123456789ABCDEF";
    assert_eq!(load(mg).unwrap().as_deref(), Some(mg));
    for bad in [
        "74950000000",
        "+7495",
        "+7495000000000000",
        "+7 495 000-00-00",
        "MG0123",
        "MG0123456789abcdef0123456789abcdeg",
        "PN0123456789abcdef0123456789abcdef",
        "Школа",
    ] {
        let e = load(bad).unwrap_err().to_string();
        assert!(e.contains("`twilio.sms_from`"), "{bad}: {e}");
    }
    let f = write(&format!(
        "[twilio]\naccount_sid = \"{sid}\"\nauth_token = \"t\"\nsms_from = \"{mg}\"\n"
    ));
    let c = Config::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(c.twilio.unwrap().sms_from.as_deref(), Some(mg));
    let no_sms = Config::load_with_env(
        None,
        env(&[
            ("PEREZVON_TWILIO__ACCOUNT_SID", sid),
            ("PEREZVON_TWILIO__AUTH_TOKEN", "t"),
        ]),
    )
    .unwrap();
    assert_eq!(no_sms.twilio.unwrap().sms_from, None, "off by default");
}

#[test]
fn schedule_section() {
    let d = Config::default().schedule;
    assert!(d.phone_numbers.is_empty() && d.embed_origins.is_empty());
    let f = write(
        "[schedule]\nphone_numbers = [\"+7 495 000-00-00\", \" 8 (800) 555-35-35 \"]\n\
         embed_origins = [\"https://school.example.ru/\", \"http://Портал.example:8443\"]\n",
    );
    let c = Config::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(
        c.schedule.phone_numbers,
        ["+7 495 000-00-00", "8 (800) 555-35-35"]
    );
    assert_eq!(
        c.schedule.embed_origins,
        [
            "https://school.example.ru",
            "http://xn--80awhdgm.example:8443"
        ]
    );
    // From the environment a list is one comma-separated string; it overrides the file.
    let c = Config::load_with_env(
        Some(f.path()),
        env(&[
            (
                "PEREZVON_SCHEDULE__EMBED_ORIGINS",
                "https://a.example.ru, https://b.example.ru",
            ),
            ("PEREZVON_SCHEDULE__PHONE_NUMBERS", ""),
        ]),
    )
    .unwrap();
    assert_eq!(
        c.schedule.embed_origins,
        ["https://a.example.ru", "https://b.example.ru"]
    );
    assert!(c.schedule.phone_numbers.is_empty(), "set empty: no phones");
}

#[test]
fn schedule_phone_defaults_to_the_twilio_number() {
    let twilio = [
        (
            "PEREZVON_TWILIO__ACCOUNT_SID",
            "AC0123456789abcdef0123456789abcdef",
        ),
        ("PEREZVON_TWILIO__AUTH_TOKEN", "t"),
        ("PEREZVON_TWILIO__FROM_NUMBER", "+74950000000"),
    ];
    let c = Config::load_with_env(None, env(&twilio)).unwrap();
    assert_eq!(c.schedule.phone_numbers, ["+74950000000"]);
    let mut vars = twilio.to_vec();
    vars.push(("PEREZVON_SCHEDULE__PHONE_NUMBERS", "8 800 100-00-00"));
    let c = Config::load_with_env(None, env(&vars)).unwrap();
    assert_eq!(c.schedule.phone_numbers, ["8 800 100-00-00"]);
}

#[test]
fn registration_format() {
    let c = Config::load_with_env(None, env(&[])).unwrap();
    assert_eq!(c.callbacks.registration.template(), "ШП-{year}-{seq:06}");
    let f = write("[callbacks]\nregistration_format = \"ОБР/{seq:05}/{year}\"\n");
    let c = Config::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(c.callbacks.registration.render(2026, 7), "ОБР/00007/2026");
    let c = Config::load_with_env(
        None,
        env(&[("PEREZVON_CALLBACKS__REGISTRATION_FORMAT", "№{seq}")]),
    )
    .unwrap();
    assert!(!c.callbacks.registration.yearly());
    let e = err_of(
        None,
        &[("PEREZVON_CALLBACKS__REGISTRATION_FORMAT", "ШП-{year}")],
    );
    assert!(
        e.contains("callbacks.registration_format") && e.contains("{seq}"),
        "{e}"
    );
}

#[test]
fn stats_section_and_abandoned_join() {
    let c = Config::load_with_env(None, env(&[])).unwrap();
    assert_eq!(c.stats, crate::stats::StatsSettings::default());
    assert_eq!(c.callbacks.abandoned_join_after, TimeDelta::seconds(10));
    let f = write(
        "[stats]\nsl_threshold_secs = 30\nshort_abandon_secs = 3\nforecast_target_percent = 90\n\
         forecast_weeks = 4\nmax_occupancy_percent = 85\n[callbacks]\nabandoned_join_after_secs = 0\n",
    );
    let c = Config::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(c.stats.sl_threshold, TimeDelta::seconds(30));
    assert_eq!(c.stats.short_abandon, TimeDelta::seconds(3));
    assert_eq!(c.stats.forecast_target, 0.9);
    assert_eq!(c.stats.forecast_weeks, 4);
    assert_eq!(c.stats.max_occupancy, Some(0.85));
    assert_eq!(c.callbacks.abandoned_join_after, TimeDelta::zero());
    for (var, key) in [
        (
            "PEREZVON_STATS__SL_THRESHOLD_SECS",
            "stats.sl_threshold_secs",
        ),
        ("PEREZVON_STATS__FORECAST_WEEKS", "stats.forecast_weeks"),
        (
            "PEREZVON_STATS__FORECAST_TARGET_PERCENT",
            "stats.forecast_target_percent",
        ),
        (
            "PEREZVON_CALLBACKS__ABANDONED_JOIN_AFTER_SECS",
            "callbacks.abandoned_join_after_secs",
        ),
    ] {
        let e = err_of(None, &[(var, "0.5x")]);
        assert!(e.contains(key), "{var}: {e}");
        let e = err_of(None, &[(var, "100000")]);
        assert!(e.contains(key) && e.contains("between"), "{var}: {e}");
    }
}

#[test]
fn schedule_errors_name_the_key() {
    for bad in [
        "+7 495 ABC",
        "12",
        "+7 495 000-00-00 доб. 5",
        "++74950000000",
    ] {
        let e = err_of(None, &[("PEREZVON_SCHEDULE__PHONE_NUMBERS", bad)]);
        assert!(e.contains("`schedule.phone_numbers`"), "{bad}: {e}");
    }
    for bad in [
        "school.example.ru",
        "ftp://school.example.ru",
        "https://school.example.ru/page",
        "https://school.example.ru/?x=1",
        "https://user@school.example.ru",
        "https://",
    ] {
        let e = err_of(None, &[("PEREZVON_SCHEDULE__EMBED_ORIGINS", bad)]);
        assert!(e.contains("`schedule.embed_origins`"), "{bad}: {e}");
    }
    let e = err_of(Some("[schedule]\nembed_origins = 5\n"), &[]);
    assert!(e.contains("schedule.embed_origins"), "{e}");
    let e = err_of(Some("[schedule]\nphones = []\n"), &[]);
    assert!(e.contains("schedule") && e.contains("phones"), "{e}");
}

#[test]
fn web_section_defaults_overrides_and_errors_name_the_key() {
    let c = Config::load_with_env(None, Vec::<(String, String)>::new()).unwrap();
    assert_eq!(c.web.session_idle, chrono::TimeDelta::minutes(120));
    assert_eq!(c.web.session_max, chrono::TimeDelta::hours(12));
    assert_eq!(c.web.token_days, 90);
    assert!(!c.web.secure_cookies);
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let c = Config::load_with_env(
        None,
        env(&[
            ("PEREZVON_WEB__SESSION_IDLE_MINUTES", "30"),
            ("PEREZVON_WEB__CLIENT_IP_HEADER", "X-Real-IP"),
            ("PEREZVON_PUBLIC_URL", "https://hotline.example.ru"),
        ]),
    )
    .unwrap();
    assert_eq!(c.web.session_idle, chrono::TimeDelta::minutes(30));
    assert_eq!(c.web.client_ip_header.as_deref(), Some("x-real-ip"));
    assert!(c.web.secure_cookies);
    for (key, value, named) in [
        (
            "PEREZVON_WEB__SESSION_IDLE_MINUTES",
            "1",
            "web.session_idle_minutes",
        ),
        (
            "PEREZVON_WEB__SESSION_MAX_HOURS",
            "0",
            "web.session_max_hours",
        ),
        ("PEREZVON_WEB__TOKEN_DAYS", "forever", "web.token_days"),
        (
            "PEREZVON_WEB__CLIENT_IP_HEADER",
            "bad header",
            "web.client_ip_header",
        ),
        (
            "PEREZVON_WEB__LOGIN_MAX_FAILURES",
            "0",
            "web.login_max_failures",
        ),
    ] {
        let e = Config::load_with_env(None, env(&[(key, value)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(named), "{key}={value}: {e}");
    }
    let e = Config::load_with_env(
        None,
        env(&[
            ("PEREZVON_WEB__SESSION_IDLE_MINUTES", "600"),
            ("PEREZVON_WEB__SESSION_MAX_HOURS", "2"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("web.session_idle_minutes"), "{e}");
}

#[test]
fn metrics_listen_is_optional_and_errors_name_the_key() {
    let c = Config::load_with_env(None, env(&[])).unwrap();
    assert_eq!(c.metrics_listen, None);
    let f = write("metrics_listen = \"127.0.0.1:9090\"\n");
    let c = Config::load_with_env(Some(f.path()), env(&[])).unwrap();
    assert_eq!(c.metrics_listen, Some("127.0.0.1:9090".parse().unwrap()));
    let c = Config::load_with_env(
        Some(f.path()),
        env(&[("PEREZVON_METRICS_LISTEN", "0.0.0.0:9100")]),
    )
    .unwrap();
    assert_eq!(c.metrics_listen.unwrap().to_string(), "0.0.0.0:9100");
    let c = Config::load_with_env(Some(f.path()), env(&[("PEREZVON_METRICS_LISTEN", "")])).unwrap();
    assert_eq!(
        c.metrics_listen, None,
        "an empty variable unsets the file's value"
    );
    let e = err_of(None, &[("PEREZVON_METRICS_LISTEN", "everywhere")]);
    assert!(
        e.contains("`metrics_listen`") && e.contains("everywhere"),
        "{e}"
    );
    let e = err_of(Some("metrics_listen = 9090"), &[]);
    assert!(e.contains("metrics_listen"), "{e}");
    let same = "listen = \"127.0.0.1:8080\"\nmetrics_listen = \"127.0.0.1:8080\"\n";
    let e = err_of(Some(same), &[]);
    assert!(
        e.contains("`metrics_listen`") && e.contains("differ"),
        "{e}"
    );
}

#[test]
fn secrets_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "file-token\n").unwrap();
    let zsecret = dir.path().join("zsecret");
    std::fs::write(&zsecret, "zadarma-secret").unwrap();
    let db = dir.path().join("db");
    std::fs::write(&db, "postgres://u:p@127.0.0.1/perezvon\r\n").unwrap();
    let file = write(&format!(
        "database_url_file = \"{}\"\n[twilio]\naccount_sid = \"AC0123456789abcdef0123456789abcdef\"\n\
         auth_token_file = \"{}\"\n[zadarma]\nkey = \"k\"\nvoicemail_redirect = \"0-2\"\n",
        db.display(),
        token.display()
    ));
    let c = Config::load_with_env(
        Some(file.path()),
        env(&[("PEREZVON_ZADARMA__SECRET_FILE", zsecret.to_str().unwrap())]),
    )
    .unwrap();
    assert_eq!(c.twilio.unwrap().auth_token.expose(), "file-token");
    assert_eq!(c.zadarma.unwrap().secret.expose(), "zadarma-secret");
    assert_eq!(c.database_url.expose(), "postgres://u:p@127.0.0.1/perezvon");
    // Both the value and its file, an unreadable file, an empty one: errors naming the key.
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    for (vars, key, says) in [
        (
            vec![
                ("PEREZVON_ZADARMA__SECRET", "x"),
                ("PEREZVON_ZADARMA__SECRET_FILE", zsecret.to_str().unwrap()),
            ],
            "zadarma.secret_file",
            "not both",
        ),
        (
            vec![("PEREZVON_ZADARMA__SECRET_FILE", "/nonexistent/secret")],
            "zadarma.secret_file",
            "cannot read",
        ),
        (
            vec![("PEREZVON_ZADARMA__SECRET_FILE", empty.to_str().unwrap())],
            "zadarma.secret_file",
            "is empty",
        ),
    ] {
        let mut vars = vars;
        vars.extend([
            ("PEREZVON_ZADARMA__KEY", "k"),
            ("PEREZVON_ZADARMA__VOICEMAIL_REDIRECT", "0-2"),
        ]);
        let e = Config::load_with_env(None, env(&vars))
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains(says), "{e}");
    }
    // `_file` is only for secrets.
    let e = Config::load_with_env(None, env(&[("PEREZVON_LISTEN_FILE", "/x")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("listen_file"), "{e}");
}

#[test]
fn sqlite_synchronous_normal_or_full() {
    let c = Config::load_with_env(None, env(&[])).unwrap();
    assert!(!c.sqlite_full_sync);
    let c = Config::load_with_env(None, env(&[("PEREZVON_SQLITE_SYNCHRONOUS", "full")])).unwrap();
    assert!(c.sqlite_full_sync);
    let e = err_of(None, &[("PEREZVON_SQLITE_SYNCHRONOUS", "off")]);
    assert!(e.contains("sqlite_synchronous"), "{e}");
}
