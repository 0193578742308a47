-- Release a slot: ARGV[5] the concurrency key, ARGV[6] the holder, ARGV[7] its claim's fencing
-- token. Frees the holder's slot if it holds one under that claim (a slot its job took again
-- under a later claim, after a rescue, stays), and then makes the first blocked job of the key
-- ready. Returns 1 when a slot was freed, else 0.
local key, holder, token = ARGV[5], ARGV[6], ARGV[7]
if redis.call('HGET', slot_claims_of(key), holder) ~= token then return 0 end
redis.call('HDEL', slot_claims_of(key), holder)
if redis.call('ZREM', slots_of(key), holder) == 0 then return 0 end
unblock(key, 1, now())
return 1
