-- jobs-postgres schema version 5: flow control — the blocked state, concurrency slots, unique
-- keys and throttle counts.
--
-- A job held back by a concurrency limit is 'blocked' under its concurrency_key (with the limit
-- it was blocked by) until a slot of the key frees. The new CHECK allows every state the old one
-- did, so the rows already stored need no scan to satisfy it (NOT VALID: it holds for every row
-- written from now on).
ALTER TABLE {schema}.jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE {schema}.jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('available', 'running', 'blocked', 'dead', 'completed')) NOT VALID;
ALTER TABLE {schema}.jobs ADD COLUMN concurrency_key text;
ALTER TABLE {schema}.jobs ADD COLUMN concurrency_limit integer;

-- The blocked jobs of a key, in the order a freed slot makes them ready: priority, then FIFO
-- (enqueue order, as every adapter readies them).
CREATE INDEX jobs_blocked ON {schema}.jobs (concurrency_key, priority, id) WHERE state = 'blocked';

-- The slots taken: one row per key and holder (the backend id of the job that runs with it).
-- A slot counts until expires_at (its hold time after it was taken); expired ones are deleted by
-- flow_expire_slots, which readies blocked jobs of the key for the slots freed.
CREATE TABLE {schema}.concurrency_slots (
    key        text        NOT NULL,
    holder     bigint      NOT NULL,
    slot_limit integer     NOT NULL,
    taken_at   timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (key, holder)
);
CREATE INDEX concurrency_slots_expiry ON {schema}.concurrency_slots (expires_at);

-- Unique keys and the job that took each one. Whether it still holds the key is read from the
-- holder's row at enqueue (its state among the states the enqueued job names, held_until not
-- passed), so completing or failing a job writes nothing here. states are the holder's own: rows
-- whose holder is gone or finished outside them are pruned by the maintenance.
CREATE TABLE {schema}.unique_keys (
    key        text        PRIMARY KEY,
    holder     bigint      NOT NULL,
    job_id     text        NOT NULL,
    states     text[]      NOT NULL,
    held_until timestamptz
);

-- Starts counted per throttle key and time window; forgotten after expires_at.
CREATE TABLE {schema}.throttle_counts (
    key        text        NOT NULL,
    window_no  bigint      NOT NULL,
    n          bigint      NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (key, window_no)
);
CREATE INDEX throttle_counts_expiry ON {schema}.throttle_counts (expires_at);

-- The functions below take, release and expire slots, each in one call (one round trip) that
-- first takes the transaction-scoped advisory lock of the key: taking, releasing, blocking and
-- unblocking are serialized per key, and every statement after the lock sees what the last holder
-- of the lock committed (so a release cannot slip between a failed take and the block).

-- The advisory lock of a concurrency key in this schema: the two-int form (this schema's
-- concurrency keys, the key's hash), apart from the crate's other locks, which take one bigint.
-- Two keys that share a hash only take turns.
CREATE FUNCTION {schema}.flow_lock(p_key text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext('{schema}/concurrency'), hashtext(p_key))
$$;

-- Makes ready up to p_n (every one when null) blocked jobs of p_key, by priority then FIFO, and
-- wakes their queues on p_channel; returns how many. The caller holds the key's lock.
CREATE FUNCTION {schema}.flow_unblock(p_key text, p_n bigint, p_channel text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    made bigint;
    woken bigint;
BEGIN
    WITH next AS (
        SELECT id FROM {schema}.jobs WHERE state = 'blocked' AND concurrency_key = p_key
        ORDER BY priority, id LIMIT p_n
        FOR UPDATE SKIP LOCKED
    ), ready AS (
        UPDATE {schema}.jobs j SET state = 'available' FROM next WHERE j.id = next.id RETURNING j.queue
    )
    SELECT count(*), (SELECT count(*) FROM (SELECT pg_notify(p_channel, queue) FROM
                          (SELECT DISTINCT queue FROM ready) q) w)
    INTO made, woken FROM ready;
    RETURN made;
END
$$;

-- Takes one of p_limit slots of p_key for job p_id, running under claim token p_token, held for
-- p_hold microseconds: 'acquired' (taken, or already held: its hold starts again), 'blocked' (every
-- slot taken and p_block: the job is stored blocked under the key, its claim ended and its
-- attempt given back), 'full' (every slot taken, not p_block: nothing changed) or 'stale' (the
-- token is not the job's current claim).
CREATE FUNCTION {schema}.flow_acquire_slot(
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
    SET expires_at = now() + p_hold * interval '1 microsecond', slot_limit = p_limit
    WHERE key = p_key AND holder = p_id AND expires_at > now();
    IF FOUND THEN
        RETURN 'acquired';
    END IF;
    -- Slots past their hold time no longer count; flow_expire_slots deletes them.
    SELECT count(*) INTO taken FROM {schema}.concurrency_slots WHERE key = p_key AND expires_at > now();
    IF taken < p_limit THEN
        INSERT INTO {schema}.concurrency_slots (key, holder, slot_limit, expires_at)
        VALUES (p_key, p_id, p_limit, now() + p_hold * interval '1 microsecond')
        ON CONFLICT (key, holder) DO UPDATE
        SET slot_limit = excluded.slot_limit, taken_at = excluded.taken_at, expires_at = excluded.expires_at;
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

-- Frees the slot of p_key held by job p_holder and makes the first blocked job of the key ready;
-- returns whether the job held a slot.
CREATE FUNCTION {schema}.flow_release_slot(p_key text, p_holder bigint, p_channel text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM {schema}.flow_lock(p_key);
    DELETE FROM {schema}.concurrency_slots WHERE key = p_key AND holder = p_holder;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM {schema}.flow_unblock(p_key, 1, p_channel);
    RETURN true;
END
$$;

-- Deletes the slots past their hold time; then, for each key with blocked jobs and fewer slots
-- taken than its limit (the one its first blocked job was blocked by), makes that many blocked
-- jobs ready (the slots a dead holder never released, or one whose release was lost); forgets
-- expired throttle counts. Keys are locked in one order (by name), so that workers expiring at
-- once never deadlock; at most 1000 keys per call. Returns how many jobs it made ready.
CREATE FUNCTION {schema}.flow_expire_slots(p_channel text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    k text;
    taken bigint;
    key_limit integer;
    made bigint := 0;
BEGIN
    FOR k IN
        SELECT key FROM (
            SELECT key FROM {schema}.concurrency_slots WHERE expires_at <= now()
            UNION
            SELECT b.key FROM (SELECT DISTINCT concurrency_key AS key FROM {schema}.jobs WHERE state = 'blocked') b
            WHERE (SELECT count(*) FROM {schema}.concurrency_slots s WHERE s.key = b.key AND s.expires_at > now())
                < (SELECT concurrency_limit FROM {schema}.jobs WHERE state = 'blocked' AND concurrency_key = b.key
                   ORDER BY priority, id LIMIT 1)
        ) keys
        ORDER BY key LIMIT 1000
    LOOP
        PERFORM {schema}.flow_lock(k);
        DELETE FROM {schema}.concurrency_slots WHERE key = k AND expires_at <= now();
        SELECT count(*) INTO taken FROM {schema}.concurrency_slots WHERE key = k;
        SELECT concurrency_limit INTO key_limit FROM {schema}.jobs WHERE state = 'blocked' AND concurrency_key = k
        ORDER BY priority, id LIMIT 1;
        IF key_limit > taken THEN
            made := made + {schema}.flow_unblock(k, key_limit - taken, p_channel);
        END IF;
    END LOOP;
    DELETE FROM {schema}.throttle_counts WHERE expires_at <= now();
    RETURN made;
END
$$;
