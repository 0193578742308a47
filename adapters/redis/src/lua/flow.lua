-- Flow control (shared by the flow scripts). Per concurrency key KEY:
--   jobs:slots:KEY     sorted set: the jobs holding a slot (backend id), scored by when their
--                      slot expires (server time, float seconds);
--   jobs:slot-claims:KEY  hash: for each job in jobs:slots:KEY, the fencing token of the claim
--                      that holds its slot (only that claim releases it);
--   jobs:blocked:KEY   list: the jobs blocked on KEY, ordered as a queue (RPOP takes the lowest
--                      priority number, then the oldest);
-- and for every key at once:
--   jobs:slot-expiry   sorted set: every key with slots, scored by (at most) its earliest expiry;
--   jobs:slot-limits   hash: the limit of every key with slots or blocked jobs, as its latest
--                      taker declared it;
--   jobs:blocked-keys  set: every key with blocked jobs.
local BLOCKED_KEYS = P .. 'jobs:blocked-keys'
local SLOT_EXPIRY = P .. 'jobs:slot-expiry'
local SLOT_LIMITS = P .. 'jobs:slot-limits'

local function slots_of(key)
  return P .. 'jobs:slots:' .. key
end

local function slot_claims_of(key)
  return P .. 'jobs:slot-claims:' .. key
end

local function blocked_of(key)
  return P .. 'jobs:blocked:' .. key
end

-- Puts a job that was blocked back into its queue, as it was: ahead of the jobs of its priority
-- (it waited already), behind those of lower priority numbers. Sidekiq's jobs have no priority,
-- so this is an RPUSH unless a job with a priority waits at the front.
local function ready_again(job, t)
  local queue = queue_of(job)
  if not queue then
    kill(job, t)
    return
  end
  redis.call('SADD', P .. 'queues', queue)
  local key, prio = P .. 'queue:' .. queue, priority_of(job)
  local front = redis.call('LINDEX', key, -1)
  if (not front) or priority_of(front) >= prio then
    redis.call('RPUSH', key, job)
    return
  end
  local from = -1
  while true do
    local chunk = redis.call('LRANGE', key, from - 99, from)
    if #chunk == 0 then break end
    for i = #chunk, 1, -1 do
      if priority_of(chunk[i]) >= prio then
        redis.call('LINSERT', key, 'AFTER', chunk[i], job)
        return
      end
    end
    from = from - #chunk
  end
  redis.call('LPUSH', key, job)
end

-- Scores `key` in jobs:slot-expiry by its earliest slot expiry, or removes it when no slot is
-- taken. Between two calls the score may be lower than the earliest expiry (a slot released or
-- refreshed), never higher, so that expire_slots visits every key in time. A key with neither
-- slots nor blocked jobs is forgotten (its limit too).
local function settle(key)
  local first = redis.call('ZRANGE', slots_of(key), 0, 0, 'WITHSCORES')
  if first[2] then
    redis.call('ZADD', SLOT_EXPIRY, first[2], key)
    return
  end
  redis.call('ZREM', SLOT_EXPIRY, key)
  redis.call('DEL', slot_claims_of(key))
  if redis.call('EXISTS', blocked_of(key)) == 0 then
    redis.call('HDEL', SLOT_LIMITS, key)
  end
end

-- Makes up to `n` blocked jobs of `key` ready (see ready_again), then settles the key. Returns
-- how many.
local function unblock(key, n, t)
  local list = blocked_of(key)
  local made = 0
  if n > 0 then
    local jobs = redis.call('RPOP', list, n)
    if jobs then
      -- The first one taken goes to the front last, so that it runs first.
      for i = #jobs, 1, -1 do
        ready_again(jobs[i], t)
      end
      made = #jobs
    end
  end
  if redis.call('EXISTS', list) == 0 then
    redis.call('SREM', BLOCKED_KEYS, key)
  end
  settle(key)
  if made > 0 then
    redis.call('PUBLISH', P .. 'jobs:wake', '')
  end
  return made
end

-- Takes a slot of `key` (whose limit is `limit`) for `holder` until `expires`, held under the
-- claim with fencing token `token` (a holder taking its slot again moves it to its new claim).
local function take_slot(key, holder, token, expires, limit)
  redis.call('ZADD', slots_of(key), expires, holder)
  redis.call('HSET', slot_claims_of(key), holder, token)
  redis.call('ZADD', SLOT_EXPIRY, 'LT', expires, key)
  redis.call('HSET', SLOT_LIMITS, key, limit)
end

-- Frees the slots of `key` whose hold is over at `t`, with their claims. Returns how many.
local function free_expired(key, t)
  local gone = redis.call('ZRANGEBYSCORE', slots_of(key), '-inf', t)
  if #gone > 0 then
    chunked({'ZREM', slots_of(key)}, gone, 2000)
    chunked({'HDEL', slot_claims_of(key)}, gone, 2000)
  end
  return #gone
end
