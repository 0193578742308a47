-- Act on jobs found by a walk, atomically for the batch: ARGV[5..] five values per job: what to
-- do ('delete', 'enqueue' into its queue, or 'kill' into the dead set), where it is ('q' a queue
-- list, 'b' a concurrency key's blocked list, 's', 'r', 'd', 'c' the schedule, retry, dead and
-- done sets), the queue's name for 'q' or the concurrency key for 'b',
-- the job as the walk saw it, and the job to store ('' for 'delete'). A job no longer where the
-- walk saw it (claimed, promoted or changed meanwhile) is left alone. Workers are woken when a
-- job went to a queue. Returns how many jobs were changed.
local t = now()
local sets = {s = 'schedule', r = 'retry', d = 'dead', c = 'jobs:done'}
local n, woke = 0, false
for i = 5, #ARGV, 5 do
  local op, kind, name, old, new = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local removed
  if kind == 'q' then
    removed = redis.call('LREM', P .. 'queue:' .. name, -1, old)
  elseif kind == 'b' then
    removed = redis.call('LREM', P .. 'jobs:blocked:' .. name, -1, old)
    if redis.call('EXISTS', P .. 'jobs:blocked:' .. name) == 0 then
      redis.call('SREM', P .. 'jobs:blocked-keys', name)
    end
  else
    removed = redis.call('ZREM', P .. sets[kind], old)
  end
  if removed > 0 then
    n = n + 1
    if op == 'enqueue' then
      local queue = queue_of(new)
      if queue then
        redis.call('SADD', P .. 'queues', queue)
        push(queue, new, priority_of(new))
        woke = true
      else
        kill(new, t)
      end
    elseif op == 'kill' then
      kill(new, t)
    end
  end
end
if woke then
  redis.call('PUBLISH', P .. 'jobs:wake', '')
end
return n
