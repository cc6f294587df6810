-- Requests a supervisor creates by hand (a walk-in, a letter, a phone note) beside the ones
-- voicemails create: where a request came from, and what it is about in the supervisor's words
-- (kept apart from `note`, which an operator's outcome overwrites).
alter table callback_requests add column source text not null default 'voicemail';
alter table callback_requests add column summary text;
