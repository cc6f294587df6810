-- `calls_from_number (from_number)` is a prefix of `calls_from_started (from_number,
-- started_at_ms)` (0015), which serves every look-up by caller (and orders it by time); the
-- narrower index only cost every new call a write to a random page of its own.
drop index calls_from_number;
