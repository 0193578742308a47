-- A recurring task's tick: ARGV[5] the task's key, ARGV[6] the tick (microseconds since the
-- epoch), ARGV[7] how long to remember the tick (milliseconds), ARGV[8] the job's id, then the
-- job as enqueue.lua takes one: queue, priority, due time ('' for now) and envelope. Stores the
-- job only if the task exists, is not paused, and this SET NX of the tick's key wins, all in this
-- one script; records the tick as the task's last run when newer. Returns 'enqueued', 'taken' or
-- 'inactive'.
local key = ARGV[5]
if redis.call('HEXISTS', P .. 'recurring:tasks', key) == 0
    or redis.call('SISMEMBER', P .. 'recurring:paused', key) == 1 then
  return 'inactive'
end
if not redis.call('SET', P .. 'recurring:tick:' .. key .. ':' .. ARGV[6], ARGV[8], 'NX', 'PX', ARGV[7]) then
  return 'taken'
end
local queue, prio, at, job = ARGV[9], tonumber(ARGV[10]), ARGV[11], ARGV[12]
if at ~= '' and tonumber(at) > now() then
  redis.call('ZADD', P .. 'schedule', at, job)
else
  redis.call('SADD', P .. 'queues', queue)
  push(queue, job, prio)
end
redis.call('PUBLISH', P .. 'jobs:wake', '')
local last = redis.call('HGET', P .. 'recurring:last', key)
if (not last) or tonumber(string.match(last, '^(%-?%d+)')) < tonumber(ARGV[6]) then
  redis.call('HSET', P .. 'recurring:last', key, ARGV[6] .. ' ' .. ARGV[8])
end
return 'enqueued'
