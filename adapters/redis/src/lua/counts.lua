-- Counts, one bounded batch at a time: ARGV[5] the structure ('q' every queue list, 'w' every
-- working hash, 'b' every blocked list, 's', 'r', 'd', 'c' the sets), ARGV[6] the rank to start
-- at in a set or in the blocked lists one after the other (by key), ARGV[7] how many of its jobs
-- to read at most. Returns {now, '1' when the structure is done or '0',
-- then triples: queue, state, count}. For 'q' the state is 'ready', followed by a triple
-- (queue, 'oldest', enqueued_at of the job at the right end, or '') for the latency.
local t = now()
local kind, from, budget = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local out = {string.format('%.6f', t), '1'}
local counts, order = {}, {}
local function count(queue, state)
  local key = queue .. '\t' .. state
  if not counts[key] then
    counts[key] = 0
    order[#order + 1] = {queue, state}
  end
  counts[key] = counts[key] + 1
end
local function flush()
  for _, pair in ipairs(order) do
    local key = pair[1] .. '\t' .. pair[2]
    out[#out + 1] = pair[1]
    out[#out + 1] = pair[2]
    out[#out + 1] = tostring(counts[key])
  end
  return out
end

if kind == 'q' then
  for _, queue in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
    local key = P .. 'queue:' .. queue
    local size = redis.call('LLEN', key)
    if size > 0 then
      local oldest = redis.call('LINDEX', key, -1)
      local at = ''
      local ok, decoded = pcall(cjson.decode, oldest)
      if ok and type(decoded) == 'table' then
        local stamp = decoded.enqueued_at or decoded.created_at
        if type(stamp) == 'number' then at = string.format('%.6f', stamp) end
      end
      for _, v in ipairs({queue, 'ready', tostring(size), queue, 'oldest', at}) do out[#out + 1] = v end
    end
  end
  return out
end

if kind == 'w' then
  for _, identity in ipairs(redis.call('SMEMBERS', P .. 'jobs:processes')) do
    for _, job in ipairs(redis.call('HVALS', P .. 'jobs:working:' .. identity)) do
      count(queue_of(job) or 'default', 'running')
    end
  end
  return flush()
end

if kind == 'b' then
  -- The blocked lists one after the other, by key: `from` counts jobs across them.
  local keys = redis.call('SMEMBERS', P .. 'jobs:blocked-keys')
  table.sort(keys)
  local skip, left = from, budget
  for _, key in ipairs(keys) do
    local list = P .. 'jobs:blocked:' .. key
    local size = redis.call('LLEN', list)
    if skip >= size then
      skip = skip - size
    else
      if left == 0 then
        out[2] = '0'
        break
      end
      local batch = redis.call('LRANGE', list, skip, skip + left - 1)
      for _, job in ipairs(batch) do
        count(queue_of(job) or 'default', 'blocked')
      end
      left = left - #batch
      if left == 0 and skip + #batch < size then
        out[2] = '0'
        break
      end
      skip = 0
    end
  end
  return flush()
end

local key = P .. ({s = 'schedule', r = 'retry', d = 'dead', c = 'jobs:done'})[kind]
local batch = redis.call('ZRANGE', key, from, from + budget - 1, 'WITHSCORES')
if #batch / 2 >= budget then out[2] = '0' end
local waiting = ({s = 'scheduled', r = 'retrying', d = 'dead', c = 'completed'})[kind]
for i = 1, #batch, 2 do
  local state = waiting
  if (kind == 's' or kind == 'r') and tonumber(batch[i + 1]) <= t then state = 'ready' end
  count(queue_of(batch[i]) or 'default', state)
end
return flush()
