-- Stores new jobs (shared by enqueue.lua and enqueue_unique.lua): `jobs` holds four values per
-- job from index `from`: queue, priority, due time ('' for now; float seconds) and the envelope.
-- Due jobs go to their queue in priority order, later ones to the schedule set. Sleeping workers
-- are woken once, for scheduled jobs too (they may be due sooner than what the workers wait for).
-- Returns how many jobs were stored.
local function store(jobs, from)
  local t = now()
  local heads = {}
  local pending = {}
  local known = {}
  local woke = false

  local function flush(queue)
    local list = pending[queue]
    if list then
      chunked({'LPUSH', P .. 'queue:' .. queue}, list, 1000)
      pending[queue] = nil
    end
  end

  local count = 0
  for i = from, #jobs, 4 do
    local queue, prio, at, job = jobs[i], tonumber(jobs[i + 1]), jobs[i + 2], jobs[i + 3]
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
        local list = pending[queue]
        if not list then
          list = {}
          pending[queue] = list
        end
        list[#list + 1] = job
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
end
