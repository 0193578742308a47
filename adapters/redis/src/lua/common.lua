-- Shared by every script (each is this file followed by its own body). ARGV[1..4] are the key
-- prefix, the dead set's size and age limits, and this process's identity; a script's own
-- arguments start at ARGV[5]. Every key is built from the prefix, so a script touches only its
-- own prefix (which is why the scripts take no KEYS: this layout is not for Redis Cluster).
local P = ARGV[1]
local DEAD_MAX = tonumber(ARGV[2])
local DEAD_TIMEOUT = tonumber(ARGV[3])
local IDENTITY = ARGV[4]

-- The server's clock, in float seconds since the epoch (Sidekiq's unit for scores and times).
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function int(n)
  return string.format('%d', n)
end

-- The Active Job priority of a stored job: the first "priority" key, which Active Job writes
-- before the arguments (a key inside a string value is escaped, so it cannot match). 0 when
-- null or absent. Only orders jobs; a wrong guess never loses one.
local function priority_of(job)
  local i = string.find(job, '"priority":', 1, true)
  if not i then return 0 end
  return tonumber(string.match(job, '^%s*(%-?%d+)', i + 11)) or 0
end

-- The queue a stored job belongs to (its envelope's "queue"), or nil for a job that is not JSON.
local function queue_of(job)
  local ok, decoded = pcall(cjson.decode, job)
  if ok and type(decoded) == 'table' and type(decoded.queue) == 'string' and decoded.queue ~= '' then
    return decoded.queue
  end
  return nil
end

-- Pushes a job onto the list `key` (a queue, or a key's blocked jobs), keeping it ordered for
-- RPOP: lower priorities pop first, first in first out within a priority. Jobs without a
-- priority (all of Sidekiq's) take the fast path, an LPUSH, whenever no job of a higher priority
-- number waits at the list's left end.
local function push_to(key, job, prio)
  local head = redis.call('LINDEX', key, 0)
  if (not head) or priority_of(head) <= prio then
    redis.call('LPUSH', key, job)
    return
  end
  local from = 0
  while true do
    local chunk = redis.call('LRANGE', key, from, from + 99)
    if #chunk == 0 then break end
    for _, other in ipairs(chunk) do
      if priority_of(other) <= prio then
        redis.call('LINSERT', key, 'BEFORE', other, job)
        return
      end
    end
    from = from + #chunk
  end
  redis.call('RPUSH', key, job)
end

-- Pushes a job onto queue:NAME in priority order (see push_to).
local function push(queue, job, prio)
  push_to(P .. 'queue:' .. queue, job, prio)
end

-- The dead set, as Sidekiq keeps it: scored by the time of death, trimmed by age and size.
local function kill(job, t)
  redis.call('ZADD', P .. 'dead', t, job)
  redis.call('ZREMRANGEBYSCORE', P .. 'dead', '-inf', t - DEAD_TIMEOUT)
  redis.call('ZREMRANGEBYRANK', P .. 'dead', 0, -(DEAD_MAX + 1))
end

-- Moves due jobs of the schedule or retry set to their queues (at most 100 a call), stamping
-- enqueued_at as Sidekiq's poller does. Returns how many moved.
local function promote(set, t)
  local key = P .. set
  local due = redis.call('ZRANGEBYSCORE', key, '-inf', t, 'LIMIT', 0, 100)
  for _, job in ipairs(due) do
    redis.call('ZREM', key, job)
    local queue = queue_of(job)
    if queue then
      if not string.find(job, '"enqueued_at":', 1, true) and string.len(job) > 2 and string.sub(job, -1) == '}' then
        job = string.sub(job, 1, -2) .. ',"enqueued_at":' .. string.format('%.6f', t) .. '}'
      end
      redis.call('SADD', P .. 'queues', queue)
      push(queue, job, priority_of(job))
    else
      kill(job, t)
    end
  end
  return #due
end

-- A job handed back by a claim that counted: its "attempts" stamp (always the envelope's first
-- key, so user data can never be mistaken for it) goes up by one.
local function counted(job)
  local n = string.match(job, '^{"attempts":(%d+),')
  if n then
    return '{"attempts":' .. int(tonumber(n) + 1) .. ',' .. string.sub(job, string.len(n) + 14)
  end
  if string.sub(job, 1, 1) ~= '{' or string.match(job, '^{%s*}$') then return job end
  local base = 0
  local ok, decoded = pcall(cjson.decode, job)
  if ok and type(decoded) == 'table' and type(decoded.retry_count) == 'number' then
    base = decoded.retry_count + 1
  end
  return '{"attempts":' .. int(base + 1) .. ',' .. string.sub(job, 2)
end

-- Hands a job back to the front of its queue (it runs next), as Sidekiq's requeue does.
local function requeue(job, t)
  local queue = queue_of(job)
  if queue then
    redis.call('SADD', P .. 'queues', queue)
    redis.call('RPUSH', P .. 'queue:' .. queue, job)
  else
    kill(job, t)
  end
end

-- Calls a command with a fixed head and a long tail of arguments, in chunks that Lua can unpack.
local function chunked(head, tail, step)
  local replies = {}
  for i = 1, #tail, step do
    local args = {}
    for _, a in ipairs(head) do args[#args + 1] = a end
    for j = i, math.min(i + step - 1, #tail) do args[#args + 1] = tail[j] end
    replies[#replies + 1] = redis.call(unpack(args))
  end
  return replies
end
