-- Sign-in to the web workspace. A session is a random cookie value stored only as its SHA-256
-- hash, with its own CSRF token, an absolute expiry and a last-seen instant for the idle limit;
-- revoked by logout, by the CLI, or when its user is disabled. Failed sign-ins are kept for a day
-- per key (`login:<login>` and `addr:<address>`) to throttle guessing across instances.
create table web_sessions (
    id               integer primary key,
    token_hash       text    not null unique,
    user_id          integer not null references users (id) on delete cascade,
    csrf_token       text    not null,
    created_at_ms    integer not null,
    last_seen_at_ms  integer not null,
    expires_at_ms    integer not null,
    revoked_at_ms    integer,
    address          text    not null default '',
    user_agent       text    not null default ''
);
create index web_sessions_user on web_sessions (user_id);

create table login_failures (
    id     integer primary key,
    key    text    not null,
    at_ms  integer not null
);
create index login_failures_key on login_failures (key, at_ms);
create index login_failures_at on login_failures (at_ms);
create index audit_log_actor on audit_log (actor, at_ms);
create index audit_log_action on audit_log (action, at_ms);
