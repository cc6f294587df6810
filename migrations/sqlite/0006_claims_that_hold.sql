-- Claims that hold. A claim keeps the lease length it was granted with (`lease_ms`), so the status
-- webhooks of its click-to-call can extend it by as much; an operator holds at most one claim; a
-- click-to-call's idempotency key is scoped to its request and operator (it was global).
alter table callback_requests add column lease_ms integer;
update callback_requests set lease_ms = 900000 where state = 'claimed';
-- Extra claims an operator held before this rule go back to the list (the newest stays).
insert into callback_history (request_id, at_ms, actor, action, detail)
    select r.id, cast((julianday('now') - 2440587.5) * 86400000 as integer), 'system', 'released',
           '{"reason":"one claim per operator"}'
    from callback_requests r where r.state = 'claimed' and exists (select 1 from callback_requests o
        where o.state = 'claimed' and o.claimed_by = r.claimed_by and o.id > r.id);
update callback_requests set state = 'open', claimed_by = null, lease_until_ms = null
    where state = 'claimed' and exists (select 1 from callback_requests o
        where o.state = 'claimed' and o.claimed_by = callback_requests.claimed_by
        and o.id > callback_requests.id);
create unique index callback_requests_one_claim_per_operator
    on callback_requests (claimed_by) where state = 'claimed';
-- SQLite cannot drop the column's own unique constraint: rebuild the table (nothing refers to it).
create table callback_attempts_new (
    id                integer primary key,
    request_id        integer not null references callback_requests (id) on delete cascade,
    operator_id       integer references operators (id),
    idempotency_key   text,
    provider_call_id  text,
    started_at_ms     integer not null,
    ended_at_ms       integer,
    outcome           text,
    note              text,
    call_status       text,
    error             text,
    outcome_at_ms     integer
);
insert into callback_attempts_new (id, request_id, operator_id, idempotency_key, provider_call_id,
        started_at_ms, ended_at_ms, outcome, note, call_status, error, outcome_at_ms)
    select id, request_id, operator_id, idempotency_key, provider_call_id, started_at_ms,
           ended_at_ms, outcome, note, call_status, error, outcome_at_ms
    from callback_attempts;
drop table callback_attempts;
alter table callback_attempts_new rename to callback_attempts;
create index callback_attempts_request on callback_attempts (request_id);
create unique index callback_attempts_provider_call on callback_attempts (provider_call_id);
create unique index callback_attempts_idempotency
    on callback_attempts (request_id, operator_id, idempotency_key);
