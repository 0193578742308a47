-- Enqueue: ARGV[5..] holds four values per job: queue, priority, due time ('' for now; float
-- seconds) and the envelope. Due jobs go to their queue in priority order, later ones to the
-- schedule set. Sleeping workers are woken once, for scheduled jobs too (they may be due sooner
-- than what the workers wait for). Returns how many jobs were stored.
local t = now()
local heads = {}
local pending = {}
local known = {}
local woke = false

local function flush(queue)
  local jobs = pending[queue]
  if jobs then
    chunked({'LPUSH', P .. 'queue:' .. queue}, jobs, 1000)
    pending[queue] = nil
  end
end

local count = 0
for i = 5, #ARGV, 4 do
  local queue, prio, at, job = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  count = count + 1
  if at ~= '' and tonumber(at) > t then
    redis.call('ZADD', P .. 'schedule', at, job)
    -- Workers sleeping until a later due time look again.
    woke = true
  else
    if not known[queue] then
      redis.call('SADD', P .. 'queues', queue)
      known[queue] = true
    end
    woke = true
    local head = heads[queue]
    if head == nil then
      local first = redis.call('LINDEX', P .. 'queue:' .. queue, 0)
      head = first and priority_of(first) or -math.huge
    end
    if head <= prio then
      -- Every job waiting has a priority number <= prio: this one goes to the left end.
      local jobs = pending[queue]
      if not jobs then
        jobs = {}
        pending[queue] = jobs
      end
      jobs[#jobs + 1] = job
      heads[queue] = prio
    else
      flush(queue)
      push(queue, job, prio)
      heads[queue] = nil
    end
  end
end
for queue in pairs(pending) do
  flush(queue)
end
if woke then
  redis.call('PUBLISH', P .. 'jobs:wake', '')
end
return count
