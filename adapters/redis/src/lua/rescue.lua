-- Rescue: promotes due scheduled jobs and retries, then hands back the jobs of claims that
-- outlived their lease, and every job held by a process whose heartbeat expired (a dead
-- process). Either way the claim's attempt stays counted. Returns how many jobs were handed back.
local t = now()
local moved = promote('schedule', t) + promote('retry', t)
local rescued = 0
for _, identity in ipairs(redis.call('SMEMBERS', P .. 'jobs:processes')) do
  local work, leases = P .. 'jobs:working:' .. identity, P .. 'jobs:leases:' .. identity
  if redis.call('EXISTS', P .. identity) == 0 then
    local held = redis.call('HGETALL', work)
    for i = 2, #held, 2 do
      requeue(counted(held[i]), t)
      rescued = rescued + 1
    end
    redis.call('DEL', work, leases, P .. 'jobs:runs:' .. identity)
    redis.call('SREM', P .. 'jobs:processes', identity)
  else
    local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', t, 'LIMIT', 0, 1000)
    for _, token in ipairs(expired) do
      local job = redis.call('HGET', work, token)
      if job then
        redis.call('HDEL', work, token)
        redis.call('HDEL', P .. 'jobs:runs:' .. identity, token)
        requeue(counted(job), t)
        rescued = rescued + 1
      end
      redis.call('ZREM', leases, token)
    end
  end
end
if rescued + moved > 0 then
  redis.call('PUBLISH', P .. 'jobs:wake', '')
end
return rescued
