-- Expire slots: ARGV[5] how many keys to visit at most. Frees the slots held past their time
-- (one blocked job of the key made ready for each), and makes ready the blocked jobs of every
-- key with no slot taken at all (a thousand per key and call at most), each key's in one go so
-- that they keep their order. Returns how many jobs
-- were made ready.
local t = now()
local visit = tonumber(ARGV[5])
local made = 0
for _, key in ipairs(redis.call('ZRANGEBYSCORE', SLOT_EXPIRY, '-inf', t, 'LIMIT', 0, visit)) do
  local freed = redis.call('ZREMRANGEBYSCORE', slots_of(key), '-inf', t)
  if redis.call('EXISTS', slots_of(key)) == 0 then freed = 1000 end
  made = made + unblock(key, freed, t)
  index_slots(key)
end
for _, key in ipairs(redis.call('SRANDMEMBER', BLOCKED_KEYS, visit)) do
  if redis.call('EXISTS', slots_of(key)) == 0 then
    made = made + unblock(key, 1000, t)
  end
end
return made
