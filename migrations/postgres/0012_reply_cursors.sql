-- Where a provider that takes one action per answer (Zadarma) is in the reply it was given: the
-- stored script (by id), the index of the action last sent, and when. Removed when the call ends.
create table reply_cursors (
    provider text not null,
    provider_call_id text not null,
    script text not null,
    position bigint not null,
    at_ms bigint not null,
    primary key (provider, provider_call_id)
);
