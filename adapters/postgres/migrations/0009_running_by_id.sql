-- jobs-postgres schema version 9: concurrency slots find the run by its primary key, whatever the
-- statistics say.
--
-- flow_acquire_slot looked the run up by `id = p_id AND token = p_token AND state = 'running'`.
-- `state = 'running'` is the predicate of the lease index jobs_leases, and with statistics taken
-- while few jobs ran (an ANALYZE, or autovacuum's) the plan PL/pgSQL caches reads every running
-- job's lease entry instead of one primary key entry. `(state = 'running') IS TRUE` means the
-- same and does not match the index's predicate. The statements of the workers say it the same
-- way (sql.rs, STILL_RUNNING). Only the function's body changes.

-- As in version 6, with the run's state written so.
CREATE OR REPLACE FUNCTION {schema}.flow_acquire_slot(
    p_id bigint, p_token bigint, p_key text, p_limit integer, p_hold bigint, p_block boolean
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    taken bigint;
BEGIN
    PERFORM {schema}.flow_lock(p_key);
    PERFORM 1 FROM {schema}.jobs WHERE id = p_id AND token = p_token AND (state = 'running') IS TRUE FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'stale';
    END IF;
    UPDATE {schema}.concurrency_slots
    SET expires_at = now() + p_hold * interval '1 microsecond', slot_limit = p_limit, token = p_token
    WHERE key = p_key AND holder = p_id AND expires_at > now();
    IF FOUND THEN
        RETURN 'acquired';
    END IF;
    -- Slots past their hold time no longer count; flow_expire_slots deletes them.
    SELECT count(*) INTO taken FROM {schema}.concurrency_slots WHERE key = p_key AND expires_at > now();
    IF taken < p_limit THEN
        INSERT INTO {schema}.concurrency_slots (key, holder, token, slot_limit, expires_at)
        VALUES (p_key, p_id, p_token, p_limit, now() + p_hold * interval '1 microsecond')
        ON CONFLICT (key, holder) DO UPDATE
        SET token = excluded.token, slot_limit = excluded.slot_limit, taken_at = excluded.taken_at,
            expires_at = excluded.expires_at;
        RETURN 'acquired';
    END IF;
    IF NOT p_block THEN
        RETURN 'full';
    END IF;
    -- An expired slot of its own, from a run before a rescue, is gone with the block.
    DELETE FROM {schema}.concurrency_slots WHERE key = p_key AND holder = p_id;
    UPDATE {schema}.jobs
    SET state = 'blocked', concurrency_key = p_key, concurrency_limit = p_limit, attempts = greatest(attempts - 1, 0),
        lease_until = NULL, worker_id = NULL
    WHERE id = p_id AND token = p_token AND (state = 'running') IS TRUE;
    RETURN 'blocked';
END
$$;
