-- The claim and the schedule read the list order together with the due time: carry it in the index
-- (SQLite has no INCLUDE), so a claim stops at the first due row instead of sorting every due
-- request, and the schedule never touches the table. The old (state, due_at_ms) index only misled
-- the planner.
drop index callback_requests_claim;
create index callback_requests_claim on callback_requests
    (rank_ms, silent, created_at_ms, id, due_at_ms, state) where state = 'open';
drop index callback_requests_due;
