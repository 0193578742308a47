-- Snapshot for the inspection side, in one atomic read: {now, kind, extra, job, kind, extra, job,
-- ...} where kind is 'q' (a queue; extra: its name), 's', 'r', 'd' (the schedule, retry and dead
-- sets; extra: the score), 'c' (completed) or 'w' (held by a worker; extra: the process).
local reply = {string.format('%.6f', now())}
local function add(kind, extra, job)
  reply[#reply + 1] = kind
  reply[#reply + 1] = extra
  reply[#reply + 1] = job
end
for _, queue in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
  for _, job in ipairs(redis.call('LRANGE', P .. 'queue:' .. queue, 0, -1)) do add('q', queue, job) end
end
for _, job in ipairs(redis.call('LRANGE', P .. 'jobs:completed', 0, -1)) do add('c', '', job) end
for kind, set in pairs({s = 'schedule', r = 'retry', d = 'dead'}) do
  local members = redis.call('ZRANGE', P .. set, 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do add(kind, members[i + 1], members[i]) end
end
for _, identity in ipairs(redis.call('SMEMBERS', P .. 'jobs:processes')) do
  for _, job in ipairs(redis.call('HVALS', P .. 'jobs:working:' .. identity)) do add('w', identity, job) end
end
return reply
