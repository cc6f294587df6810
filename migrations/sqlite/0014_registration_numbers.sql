-- Registration numbers: every request gets a human-readable number when it is created
-- (`domain::registration`). A counter per scope (the Moscow year when the format carries the
-- year, 0 when it does not) that only grows, so no number is given twice by any instance.
-- Requests created before this migration are numbered by the service at start.
create table registration_counters (
    scope  bigint primary key,
    last   bigint not null
);
alter table callback_requests add column reg_number text;
create unique index callback_requests_reg_number on callback_requests (reg_number);
