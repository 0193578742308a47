-- Release: ARGV[5..] fencing tokens. Each job still held under its token goes back to the front
-- of its queue as it was, its attempt not counted. Returns how many were released.
local t = now()
local work, leases = P .. 'jobs:working:' .. IDENTITY, P .. 'jobs:leases:' .. IDENTITY
local n = 0
for i = 5, #ARGV do
  local job = redis.call('HGET', work, ARGV[i])
  if job then
    redis.call('HDEL', work, ARGV[i])
    redis.call('ZREM', leases, ARGV[i])
    redis.call('HDEL', P .. 'jobs:runs:' .. IDENTITY, ARGV[i])
    requeue(job, t)
    n = n + 1
  end
end
if n > 0 then
  redis.call('PUBLISH', P .. 'jobs:wake', '')
end
return n
