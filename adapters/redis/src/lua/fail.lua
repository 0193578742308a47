-- Fail: three values per failure from ARGV[5]: fencing token, retry delay in seconds ('' moves
-- the job to the dead set) and the job's new envelope (with Sidekiq's error fields and jobs'
-- error history). Only tokens still in this process's working hash count.
-- Returns how many failures were recorded.
local t = now()
local work, leases = P .. 'jobs:working:' .. IDENTITY, P .. 'jobs:leases:' .. IDENTITY
local n, retried = 0, false
for i = 5, #ARGV, 3 do
  local token, delay, job = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HDEL', work, token) == 1 then
    redis.call('ZREM', leases, token)
    redis.call('HDEL', P .. 'jobs:runs:' .. IDENTITY, token)
    n = n + 1
    if delay == '' then
      kill(job, t)
    else
      redis.call('ZADD', P .. 'retry', t + tonumber(delay), job)
      retried = true
    end
  end
end
if retried then
  redis.call('PUBLISH', P .. 'jobs:wake', '')
end
return n
