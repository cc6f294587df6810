-- One voicemail per call, created when the voicemail steps begin, so a caller who hangs up before
-- the beep still leaves a record to call back; the caller ID is kept beside the confirmed number.
create unique index voicemails_one_per_call on voicemails (call_id);
alter table voicemails add column caller_id text;
alter table voicemails add column recording_duration_ms integer;
