-- Blocklist and per-number limits (issue 13; the PostgreSQL twin has the same version number).
-- Rules blocking caller numbers, number prefixes (E.164), e-mail senders and mail domains.
create table blocklist (
    id             integer primary key,
    kind           text    not null check (kind in ('number', 'prefix', 'email', 'domain')),
    value          text    not null,
    reason         text    not null default '',
    created_by     text    not null,
    created_at_ms  integer not null,
    unique (kind, value)
);
-- One row per blocked attempt, keyed by what was attempted (`<provider>:<call id>` for a call,
-- `mail:<message id>` for a letter), so a re-delivered webhook or letter counts once.
create table blocked_attempts (
    attempt_key  text    primary key,
    rule_id      integer not null references blocklist (id) on delete cascade,
    at_ms        integer not null
);
create index blocked_attempts_rule on blocked_attempts (rule_id, at_ms);
-- The per-number limits in force once a supervisor changed them (0 = off); absent: from config.
create table call_limits (
    id                  integer primary key check (id = 1),
    voicemails_per_day  integer not null check (voicemails_per_day >= 0),
    calls_per_hour      integer not null check (calls_per_hour >= 0),
    updated_by          text    not null,
    updated_at_ms       integer not null
);
-- The calls of one number in the last hour (the calls-per-hour limit).
create index calls_from_started on calls (from_number, started_at_ms);
