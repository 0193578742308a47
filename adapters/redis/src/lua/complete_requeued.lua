-- Complete runs whose job enqueued itself again (retry_on): ARGV[5] how many completed jobs to
-- keep findable (0 keeps none), then two values per run from ARGV[6]: fencing token and the
-- job's envelope with the run's error added to its history. Only tokens still in this process's
-- working hash count. Returns how many completed.
local keep = tonumber(ARGV[5])
local runs = P .. 'jobs:runs:' .. IDENTITY
local work, leases = P .. 'jobs:working:' .. IDENTITY, P .. 'jobs:leases:' .. IDENTITY
local t = now()
local n = 0
for i = 6, #ARGV, 2 do
  local token, job = ARGV[i], ARGV[i + 1]
  if redis.call('HDEL', work, token) == 1 then
    redis.call('ZREM', leases, token)
    redis.call('HDEL', runs, token)
    n = n + 1
    if keep > 0 then
      redis.call('ZADD', P .. 'jobs:done', t, job)
    end
  end
end
if n > 0 and keep > 0 then
  redis.call('ZREMRANGEBYRANK', P .. 'jobs:done', 0, -(keep + 1))
end
return n
