-- Personal data (152-FZ; the PostgreSQL twin has the same version number). The key of the
-- pseudonyms that replace callers' numbers once their retention ran out (src/domain/pseudonym.rs),
-- made at random on first use when `privacy.pseudonym_key` is not configured: one row at most.
create table privacy_key (
    id             integer primary key check (id = 1),
    key            text    not null,
    created_at_ms  integer not null
);
