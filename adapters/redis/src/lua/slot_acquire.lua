-- Acquire a slot: ARGV[5] the claim's fencing token, ARGV[6] the holder (the job's backend id),
-- ARGV[7] the concurrency key, ARGV[8] the limit, ARGV[9] the hold time (seconds), ARGV[10] '1'
-- to block the job when every slot is taken. In this one step: a holder already holding a slot
-- keeps it (its expiry starts again, and it is held under this claim from now on: a rescued
-- job's rerun takes its slot over); slots held past their time are freed (a blocked job made
-- ready for each one left free); then a slot is taken if one is free, else the job is blocked —
-- moved from this process's working hash to jobs:blocked:KEY as it was, its claim not counted —
-- or nothing changes. Returns 'acquired', 'blocked', 'full' or 'stale' (the token no longer
-- holds the job).
local t = now()
local token, holder, key = ARGV[5], ARGV[6], ARGV[7]
local limit, hold, block = tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10] == '1'
local work = P .. 'jobs:working:' .. IDENTITY
local job = redis.call('HGET', work, token)
if not job then return 'stale' end

local slots = slots_of(key)
if redis.call('ZSCORE', slots, holder) then
  take_slot(key, holder, token, t + hold, limit)
  return 'acquired'
end
local freed = free_expired(key, t)
local taken = redis.call('ZCARD', slots)
local acquired = taken < limit
if acquired then
  take_slot(key, holder, token, t + hold, limit)
  taken = taken + 1
end
if freed > 0 then
  unblock(key, math.min(freed, limit - taken), t)
end
if acquired then return 'acquired' end
if not block then return 'full' end
redis.call('HSET', SLOT_LIMITS, key, limit)

redis.call('HDEL', work, token)
redis.call('ZREM', P .. 'jobs:leases:' .. IDENTITY, token)
redis.call('HDEL', P .. 'jobs:runs:' .. IDENTITY, token)
push_to(blocked_of(key), job, priority_of(job))
redis.call('SADD', BLOCKED_KEYS, key)
return 'blocked'
