-- Enqueue jobs some of which are unique: ARGV[5..] ten values per job: queue, priority, due time
-- and envelope (as store.lua takes them), then the jid, the Active Job job_id, the unique key
-- ('' for none), the states in which a holder makes this job a duplicate (comma-separated
-- names), the time this job holds the key until if it takes it ('' for as long as it is in
-- those states; float seconds) and its concurrency key ('' for none).
--
-- A unique key is the hash jobs:unique:KEY: the holder's jid, job_id, queue, concurrency key and
-- until (the hash expires then, or after the dead set's age limit when there is no until). The holder makes a new job a duplicate while `until` has not
-- passed and it is in one of the new job's states, as found now by its jid where each of those
-- states keeps jobs (nothing is written when a job moves on, so nothing can be missed: a key
-- whose holder is gone is simply free). A job whose job_id is the holder's takes the key over, as
-- does any job stored with the key. Every check comes before any write, so the batch is stored
-- whole or not at all. Returns two values per job: '' and '' when it was stored, else the
-- holder's jid and job_id.
local t = now()

-- Whether `needle` (a jid stamp) is in one of `jobs`.
local function among(jobs, needle)
  for _, job in ipairs(jobs) do
    if string.find(job, needle, 1, true) then return true end
  end
  return false
end

-- Whether the list `key` holds a job with `needle`, read a thousand at a time.
local function in_list(key, needle)
  local from = 0
  while true do
    local chunk = redis.call('LRANGE', key, from, from + 999)
    if among(chunk, needle) then return true end
    if #chunk < 1000 then return false end
    from = from + 1000
  end
end

-- The state of the job with `needle` in the sorted set `key`, or nil: `early` while its score is
-- later than now, `due` after.
local function in_set(key, needle, early, due)
  local from = 0
  while true do
    local chunk = redis.call('ZRANGE', key, from, from + 999, 'WITHSCORES')
    for i = 1, #chunk, 2 do
      if string.find(chunk[i], needle, 1, true) then
        if tonumber(chunk[i + 1]) > t then return early end
        return due
      end
    end
    if #chunk < 2000 then return nil end
    from = from + 1000
  end
end

-- Whether the holder `h` holds its key against a job naming the `states` (a comma-separated
-- list): looks for it only where those states keep jobs, the cheapest places first. A holder
-- stored by this same call is where it was just put (`h.fresh`).
local function holds(h, states)
  if h.till ~= '' and tonumber(h.till) <= t then return false end
  local wanted = {}
  for state in string.gmatch(states, '[^,]+') do wanted[state] = true end
  if h.fresh then return wanted[h.fresh] == true end
  local needle = '"jid":"' .. h.jid .. '"'
  if wanted.running then
    for _, identity in ipairs(redis.call('SMEMBERS', P .. 'jobs:processes')) do
      if among(redis.call('HVALS', P .. 'jobs:working:' .. identity), needle) then return true end
    end
  end
  if wanted.blocked and h.concurrency ~= '' and in_list(P .. 'jobs:blocked:' .. h.concurrency, needle) then
    return true
  end
  if wanted.ready and in_list(P .. 'queue:' .. h.queue, needle) then return true end
  if wanted.scheduled or wanted.ready then
    local state = in_set(P .. 'schedule', needle, 'scheduled', 'ready')
    if state then return wanted[state] == true end
  end
  if wanted.retrying or wanted.ready then
    local state = in_set(P .. 'retry', needle, 'retrying', 'ready')
    if state then return wanted[state] == true end
  end
  if wanted.dead and in_set(P .. 'dead', needle, 'dead', 'dead') then return true end
  if wanted.completed and in_set(P .. 'jobs:done', needle, 'completed', 'completed') then return true end
  return false
end

local reply, accepted, holders, taken = {}, {}, {}, {}
for i = 5, #ARGV, 10 do
  local jid, job_id, key, states = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local holder = nil
  if key ~= '' then
    local h = taken[key]
    if not h then
      local fields = redis.call('HMGET', P .. 'jobs:unique:' .. key, 'jid', 'job_id', 'queue', 'until', 'concurrency')
      if fields[1] then
        h = {jid = fields[1], job_id = fields[2] or '', queue = fields[3] or '', till = fields[4] or '',
             concurrency = fields[5] or ''}
      end
    end
    if h and h.job_id ~= job_id and holds(h, states) then holder = h end
  end
  if holder then
    reply[#reply + 1] = holder.jid
    reply[#reply + 1] = holder.job_id
  else
    reply[#reply + 1] = ''
    reply[#reply + 1] = ''
    for k = i, i + 3 do accepted[#accepted + 1] = ARGV[k] end
    if key ~= '' then
      local at = ARGV[i + 2]
      local fresh = (at ~= '' and tonumber(at) > t) and 'scheduled' or 'ready'
      local h = {key = key, jid = jid, job_id = job_id, queue = ARGV[i], till = ARGV[i + 8],
                 concurrency = ARGV[i + 9], fresh = fresh}
      taken[key] = h
      holders[#holders + 1] = h
    end
  end
end

for _, h in ipairs(holders) do
  local hash = P .. 'jobs:unique:' .. h.key
  redis.call('DEL', hash)
  redis.call('HSET', hash, 'jid', h.jid, 'job_id', h.job_id, 'queue', h.queue, 'until', h.till,
             'concurrency', h.concurrency)
  if h.till ~= '' then
    redis.call('PEXPIREAT', hash, math.ceil(tonumber(h.till) * 1000))
  else
    -- Not for ever: as long as the dead set keeps a job (180 days by default).
    redis.call('EXPIRE', hash, DEAD_TIMEOUT)
  end
end
store(accepted, 1)
return reply
