-- Perezvon first schema (SQLite). The PostgreSQL twin is migrations/postgres/0001_init.sql:
-- same tables, columns and constraints; instants are integer milliseconds since the Unix epoch (UTC).

create table users (
    id             integer primary key,
    login          text    not null unique,
    display_name   text    not null default '',
    role           text    not null check (role in ('operator', 'supervisor', 'admin')),
    password_hash  text    not null,
    disabled       integer not null default 0 check (disabled in (0, 1)),
    created_at_ms  integer not null
);

create table api_tokens (
    id               integer primary key,
    user_id          integer not null references users (id) on delete cascade,
    token_hash       text    not null unique,
    label            text    not null default '',
    created_at_ms    integer not null,
    last_used_at_ms  integer,
    expires_at_ms    integer,
    revoked_at_ms    integer
);
create index api_tokens_user on api_tokens (user_id);

create table operators (
    id                  integer primary key,
    user_id             integer not null unique references users (id) on delete cascade,
    name                text    not null,
    contact_kind        text    not null check (contact_kind in ('phone', 'sip', 'extension')),
    contact             text    not null,
    line                text    not null default 'main',
    presence            text    not null default 'offline'
                        check (presence in ('available', 'on_call', 'wrap_up', 'break', 'offline')),
    presence_since_ms   integer not null,
    idle_since_ms       integer,
    consecutive_misses  integer not null default 0,
    created_at_ms       integer not null
);

create table calls (
    id                integer primary key,
    provider          text    not null,
    provider_call_id  text    not null,
    direction         text    not null default 'inbound' check (direction in ('inbound', 'outbound')),
    from_number       text,
    to_number         text,
    line              text    not null default 'main',
    state             text    not null,
    operator_id       integer references operators (id),
    started_at_ms     integer not null,
    updated_at_ms     integer not null,
    ended_at_ms       integer,
    unique (provider, provider_call_id)
);
create index calls_started on calls (started_at_ms);

create table call_events (
    id              integer primary key,
    call_id         integer not null references calls (id) on delete cascade,
    event_key       text    not null,
    kind            text    not null,
    sequence        integer,
    payload         text    not null default '{}',
    reply           text,
    received_at_ms  integer not null,
    unique (call_id, event_key)
);

create table callback_requests (
    id               integer primary key,
    callback_number  text    not null,
    caller_category  text,
    state            text    not null default 'open' check (state in ('open', 'claimed', 'closed')),
    outcome          text,
    topic            text,
    note             text,
    repeat_count     integer not null default 0,
    attempts         integer not null default 0,
    created_at_ms    integer not null,
    due_at_ms        integer not null,
    deadline_at_ms   integer not null,
    claimed_by       integer references operators (id),
    lease_until_ms   integer,
    closed_at_ms     integer
);
create unique index callback_requests_one_open_per_number
    on callback_requests (callback_number) where state <> 'closed';
create index callback_requests_due on callback_requests (state, due_at_ms);

create table voicemails (
    id                   integer primary key,
    call_id              integer not null references calls (id),
    callback_request_id  integer references callback_requests (id),
    callback_number      text,
    number_confirmed     integer not null default 0 check (number_confirmed in (0, 1)),
    caller_category      text,
    recording_key        text unique,
    recording_url        text,
    audio_status         text    not null default 'pending'
                         check (audio_status in ('pending', 'stored', 'unreadable', 'missing', 'removed', 'none')),
    audio_path           text,
    original_path        text,
    duration_ms          integer,
    sample_rate          integer,
    sha256               text,
    has_speech           integer check (has_speech in (0, 1)),
    flags                text    not null default '',
    received_at_ms       integer not null
);
create index voicemails_received on voicemails (received_at_ms);
create index voicemails_request on voicemails (callback_request_id);

create table callback_attempts (
    id                integer primary key,
    request_id        integer not null references callback_requests (id) on delete cascade,
    operator_id       integer references operators (id),
    idempotency_key   text unique,
    provider_call_id  text,
    started_at_ms     integer not null,
    ended_at_ms       integer,
    outcome           text,
    note              text
);
create index callback_attempts_request on callback_attempts (request_id);

create table callback_history (
    id          integer primary key,
    request_id  integer not null references callback_requests (id) on delete cascade,
    at_ms       integer not null,
    actor       text    not null,
    action      text    not null,
    detail      text    not null default '{}'
);
create index callback_history_request on callback_history (request_id);

create table jobs (
    id              integer primary key,
    kind            text    not null,
    payload         text    not null default '{}',
    dedup_key       text unique,
    state           text    not null default 'queued' check (state in ('queued', 'running', 'done', 'failed')),
    attempts        integer not null default 0,
    max_attempts    integer not null,
    run_at_ms       integer not null,
    lease_until_ms  integer,
    leased_by       text,
    last_error      text,
    created_at_ms   integer not null,
    updated_at_ms   integer not null
);
create index jobs_ready on jobs (state, run_at_ms);

create table audit_log (
    id          integer primary key,
    at_ms       integer not null,
    actor       text    not null,
    action      text    not null,
    subject     text    not null default '',
    detail      text    not null default '{}',
    request_id  text
);
create index audit_log_at on audit_log (at_ms);
