-- Expire slots: ARGV[5] how many keys to visit at most. Frees the slots held past their time
-- (and their claims), then makes ready as many blocked jobs of each key as it has slots free
-- under its limit (as its latest taker declared it), a thousand per key at most, each key's in
-- one go so that they keep their order. Returns how many jobs were made ready.
local t = now()
local visit = tonumber(ARGV[5])
for _, key in ipairs(redis.call('ZRANGEBYSCORE', SLOT_EXPIRY, '-inf', t, 'LIMIT', 0, visit)) do
  free_expired(key, t)
  settle(key)
end
local made = 0
for _, key in ipairs(redis.call('SRANDMEMBER', BLOCKED_KEYS, visit)) do
  free_expired(key, t)
  local limit = tonumber(redis.call('HGET', SLOT_LIMITS, key)) or 1
  local free = limit - redis.call('ZCARD', slots_of(key))
  made = made + unblock(key, math.min(math.max(free, 0), 1000), t)
end
return made
