-- Release a slot: ARGV[5] the concurrency key, ARGV[6] the holder. Frees the holder's slot, if
-- it holds one, and then makes the first blocked job of the key ready. Returns 1 when a slot was
-- freed, else 0.
local key, holder = ARGV[5], ARGV[6]
if redis.call('ZREM', slots_of(key), holder) == 0 then return 0 end
unblock(key, 1, now())
return 1
