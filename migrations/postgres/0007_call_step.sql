-- One webhook = one step: every change of a call's row goes through a compare-and-set on its
-- version (the step read the row inside its transaction; the update names the version it read).
-- The reconciler finds stuck calls (and voicemails not yet on the callback list, through their
-- calls) by state and last change.
alter table calls add column version bigint not null default 0;
create index calls_state_updated on calls (state, updated_at_ms);
