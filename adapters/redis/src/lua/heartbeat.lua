-- Heartbeat: ARGV[5] lease (seconds), ARGV[6] process TTL (seconds), ARGV[7..] fencing tokens.
-- Extends the leases of claims this process still holds, and its own liveness. Returns how many
-- leases were extended.
local t = now()
local lease, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local leases = P .. 'jobs:leases:' .. IDENTITY
local n = 0
for i = 7, #ARGV do
  if redis.call('ZSCORE', leases, ARGV[i]) then
    redis.call('ZADD', leases, t + lease, ARGV[i])
    n = n + 1
  end
end
if n > 0 then
  redis.call('HSET', P .. IDENTITY, 'beat', t)
  redis.call('EXPIRE', P .. IDENTITY, ttl)
  redis.call('SADD', P .. 'jobs:processes', IDENTITY)
end
return n
