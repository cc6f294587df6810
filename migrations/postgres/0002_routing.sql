-- Routing state (PostgreSQL; the SQLite twin has the same version number): when a call joined the
-- hold queue, which operators were already rung for it, and which call an operator is reserved for.
alter table calls add column queued_at_ms bigint;
alter table calls add column tried_operators text not null default '';
alter table operators add column current_call_id bigint references calls (id);
create index calls_state_queued on calls (state, queued_at_ms);
