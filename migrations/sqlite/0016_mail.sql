-- Requests by e-mail (issue 13; the PostgreSQL twin has the same version number). A letter's
-- request has source 'email' and the sender's address; its callback number is a phone number
-- found in the letter, or '' when the letter gives none (such requests are outside the
-- one-active-request-per-number rule).
alter table callback_requests add column email text;
drop index callback_requests_one_open_per_number;
create unique index callback_requests_one_open_per_number
    on callback_requests (callback_number) where state <> 'closed' and callback_number <> '';
-- Every letter in and out, once: incoming ones by their Message-ID (or a hash of the letter when
-- it has none), outgoing ones by the id we gave them, so replies to ours thread to the request.
create table mail_messages (
    id             integer primary key,
    request_id     integer references callback_requests (id) on delete cascade,
    direction      text    not null check (direction in ('in', 'out')),
    message_id     text    not null,
    from_address   text,
    to_address     text,
    subject        text    not null default '',
    body           text    not null default '',
    attachments    text    not null default '[]',
    automatic      text,
    created_at_ms  integer not null,
    unique (direction, message_id)
);
create index mail_messages_request on mail_messages (request_id);
-- Where the intake is in the mailbox (the folder's UIDVALIDITY and the last UID done), and which
-- instance holds the mailbox (a lease renewed while it works; the others stand by).
create table mail_state (
    mailbox        text    primary key,
    uid_validity   integer not null default 0,
    last_uid       integer not null default 0,
    holder         text,
    lease_until_ms integer not null default 0
);
