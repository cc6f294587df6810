-- Claims that hold. A claim keeps the lease length it was granted with (`lease_ms`), so the status
-- webhooks of its click-to-call can extend it by as much; an operator holds at most one claim; a
-- click-to-call's idempotency key is scoped to its request and operator (it was global).
alter table callback_requests add column lease_ms bigint;
update callback_requests set lease_ms = 900000 where state = 'claimed';
-- Extra claims an operator held before this rule go back to the list (the newest stays).
insert into callback_history (request_id, at_ms, actor, action, detail)
    select r.id, cast(extract(epoch from clock_timestamp()) * 1000 as bigint), 'system', 'released',
           '{"reason":"one claim per operator"}'
    from callback_requests r where r.state = 'claimed' and exists (select 1 from callback_requests o
        where o.state = 'claimed' and o.claimed_by = r.claimed_by and o.id > r.id);
update callback_requests set state = 'open', claimed_by = null, lease_until_ms = null
    where state = 'claimed' and exists (select 1 from callback_requests o
        where o.state = 'claimed' and o.claimed_by = callback_requests.claimed_by
        and o.id > callback_requests.id);
create unique index callback_requests_one_claim_per_operator
    on callback_requests (claimed_by) where state = 'claimed';
alter table callback_attempts drop constraint callback_attempts_idempotency_key_key;
create unique index callback_attempts_idempotency
    on callback_attempts (request_id, operator_id, idempotency_key);
