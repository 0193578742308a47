-- Dead jobs by id: ARGV[5] 'retry' (back to their queues, keeping their history) or 'delete',
-- ARGV[6..] job ids (jids). A dead job that is not JSON cannot be retried (it has no queue).
-- Returns how many dead jobs were changed.
local needles = {}
for i = 6, #ARGV do
  needles[#needles + 1] = '"jid":"' .. ARGV[i] .. '"'
end
local n = 0
for _, job in ipairs(redis.call('ZRANGE', P .. 'dead', 0, -1)) do
  for _, needle in ipairs(needles) do
    if string.find(job, needle, 1, true) then
      if ARGV[5] == 'retry' then
        local queue = queue_of(job)
        if queue then
          redis.call('ZREM', P .. 'dead', job)
          redis.call('SADD', P .. 'queues', queue)
          push(queue, job, priority_of(job))
          n = n + 1
        end
      else
        redis.call('ZREM', P .. 'dead', job)
        n = n + 1
      end
      break
    end
  end
end
if n > 0 and ARGV[5] == 'retry' then
  redis.call('PUBLISH', P .. 'jobs:wake', '')
end
return n
