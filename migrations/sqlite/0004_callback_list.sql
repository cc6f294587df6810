-- The callback list: a request's place is its rank (the SLA deadline on the working-time axis
-- minus priority credits, kept by the application), then whether it has a message, then arrival.
alter table callback_requests add column deadline_work_ms integer not null default 0;
alter table callback_requests add column rank_ms integer not null default 0;
alter table callback_requests add column silent integer not null default 0;
alter table callback_requests add column misses integer not null default 0;
alter table callback_requests add column follow_up integer not null default 0;
alter table callback_requests add column updated_at_ms integer not null default 0;
create index callback_requests_claim
    on callback_requests (rank_ms, silent, created_at_ms, id) where state = 'open';
create index callback_requests_active
    on callback_requests (rank_ms, silent, created_at_ms, id) where state <> 'closed';
create index callback_requests_leases
    on callback_requests (lease_until_ms) where state = 'claimed';
create index callback_requests_closed on callback_requests (closed_at_ms) where state = 'closed';
-- A click-to-call's provider call and how it ended.
alter table callback_attempts add column call_status text;
alter table callback_attempts add column error text;
create unique index callback_attempts_provider_call on callback_attempts (provider_call_id);
alter table callback_attempts add column outcome_at_ms integer;
