-- The claim and the schedule read the list order together with the due time: carry it in the index,
-- so the schedule is an index-only scan and the lease release uses the leases index. The old
-- (state, due_at_ms) index only misled the planner.
drop index callback_requests_claim;
create index callback_requests_claim on callback_requests
    (rank_ms, silent, created_at_ms, id) include (due_at_ms) where state = 'open';
drop index callback_requests_due;
