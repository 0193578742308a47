-- jobs-postgres schema version 6: a concurrency slot is held under the claim that took it.
--
-- A job whose run lost its lease (its worker cut off, frozen or starved of heartbeats) is rescued
-- and run again, and the rerun takes the job's slot again. The stale run's release used to delete
-- the slot by key and holder alone, the slot the rerun now held, so one more job of the key ran.
-- Each slot now keeps the fencing token of the claim that took it (or took it again last), and a
-- release deletes it only under that token. The column's default is a constant, so adding it
-- rewrites no row; slots taken before this version keep token 0, which no claim has, and free
-- at the end of their hold time unless the process that took them releases them.
ALTER TABLE {schema}.concurrency_slots ADD COLUMN token bigint NOT NULL DEFAULT 0;

-- As in version 5, but the slot, taken or taken again, is held under p_token.
CREATE OR REPLACE FUNCTION {schema}.flow_acquire_slot(
    p_id bigint, p_token bigint, p_key text, p_limit integer, p_hold bigint, p_block boolean
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    taken bigint;
BEGIN
    PERFORM {schema}.flow_lock(p_key);
    PERFORM 1 FROM {schema}.jobs WHERE id = p_id AND token = p_token AND state = 'running' FOR UPDATE;
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
    WHERE id = p_id AND token = p_token AND state = 'running';
    RETURN 'blocked';
END
$$;

-- Frees the slot of p_key held by job p_holder under claim token p_token and makes the first
-- blocked job of the key ready; returns whether such a slot was held. A slot the job holds under
-- another claim (a rerun after a rescue took it again) stays.
CREATE FUNCTION {schema}.flow_release_slot(p_key text, p_holder bigint, p_token bigint, p_channel text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM {schema}.flow_lock(p_key);
    DELETE FROM {schema}.concurrency_slots WHERE key = p_key AND holder = p_holder AND token = p_token;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM {schema}.flow_unblock(p_key, 1, p_channel);
    RETURN true;
END
$$;

-- Version 5's flow_release_slot(p_key, p_holder, p_channel), which frees by holder alone, stays
-- for the processes of the previous build still running while this one rolls out; this build
-- never calls it.
