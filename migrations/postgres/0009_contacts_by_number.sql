-- The earlier contacts of a callback number (the operator's card): its calls, voicemails and
-- callback requests, found by the number without a scan.
create index calls_from_number on calls (from_number);
create index voicemails_callback_number on voicemails (callback_number);
create index callback_requests_number on callback_requests (callback_number, created_at_ms);
