-- Statistics (SQLite; the PostgreSQL twin has the same version number). Every call event keeps
-- the state its step left the call in and routing's mark (hotline open, talk time, wrap-up, the
-- caller's choice of voicemail: see src/domain/facts.rs); call_facts holds each call's facts,
-- merged step by step (a fact, once known, never changes), so a month of statistics reads this
-- table alone. `day` and `hour` are the Moscow date and hour the call started. `call_id` is the
-- call's id (no foreign key: one check less on the call path; calls are never deleted). No index
-- on `day`: a range of dates is found as a range of call ids (see src/store/stats.rs), so a new
-- call costs one row and no index entry on the call path.
alter table call_events add column state text;
alter table call_events add column mark text;
create table call_facts (
    call_id                integer primary key,
    day                    text    not null,
    hour                   integer not null,
    started_at_ms          integer not null,
    in_hours               integer,
    queued_at_ms           integer,
    answered_at_ms         integer,
    operator_id            integer,
    talk_ms                integer,
    wrap_up_ms             integer,
    abandoned_at_ms        integer,
    voicemail_at_ms        integer,
    voicemail_from         text,
    voicemail_open         integer,
    voicemail_left_at_ms   integer,
    chose_voicemail_at_ms  integer,
    ended_at_ms            integer
);
-- Operators' own presence changes (available, break, offline; autopause), for occupancy: the
-- time an operator staffed the line is the time between becoming available and leaving.
create table presence_log (
    id           integer primary key,
    operator_id  integer not null references operators (id) on delete cascade,
    presence     text    not null,
    at_ms        integer not null
);
create index presence_log_at on presence_log (at_ms);
create index presence_log_operator on presence_log (operator_id, at_ms);
-- The callback figures count requests made in a range (closed ones: callback_requests_closed).
create index callback_requests_created on callback_requests (created_at_ms);
