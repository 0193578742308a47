-- Enqueue jobs some of which are unique: ARGV[5..] ten values per job: queue, priority, due time
-- and envelope (as store.lua takes them), then the jid, the Active Job job_id, the unique key
-- ('' for none), the states in which a holder makes this job a duplicate (comma-separated
-- names), the time this job holds the key until if it takes it ('' for as long as it is in
-- those states; float seconds) and its concurrency key ('' for none).
--
-- A unique key is the hash jobs:unique:KEY: the holder's jid, job_id, queue, concurrency key and
-- until (the hash expires then, or after the dead set's age limit when there is no until). The
-- holder makes a new job a duplicate while `until` has not passed and it is in one of the new
-- job's states, as found now by its jid where each of those states keeps jobs (nothing is
-- written when a job moves on, so nothing can be missed: a key whose holder is gone is simply
-- free). A job whose job_id is the holder's takes the key over, as does any job stored with the
-- key. Every check comes before any write, so the batch is stored whole or not at all. Returns
-- two values per job: '' and '' when it was stored, else the holder's jid and job_id.
local t = now()

-- Calls visit(job, score) for each job of a structure, a thousand at a time, until it returns
-- true: 'w' every working hash, 'q' the queue list `name`, 'b' the blocked list of key `name`,
-- 's', 'r', 'd', 'c' the schedule, retry, dead and done sets (with scores).
local sets = {s = 'schedule', r = 'retry', d = 'dead', c = 'jobs:done'}
local function each(kind, name, visit)
  if kind == 'w' then
    for _, identity in ipairs(redis.call('SMEMBERS', P .. 'jobs:processes')) do
      for _, job in ipairs(redis.call('HVALS', P .. 'jobs:working:' .. identity)) do
        if visit(job) then return end
      end
    end
    return
  end
  local from = 0
  while true do
    local chunk
    if kind == 'q' or kind == 'b' then
      local key = P .. (kind == 'q' and 'queue:' or 'jobs:blocked:') .. name
      chunk = redis.call('LRANGE', key, from, from + 999)
      for _, job in ipairs(chunk) do
        if visit(job) then return end
      end
      if #chunk < 1000 then return end
    else
      chunk = redis.call('ZRANGE', P .. sets[kind], from, from + 999, 'WITHSCORES')
      for i = 1, #chunk, 2 do
        if visit(chunk[i], tonumber(chunk[i + 1])) then return end
      end
      if #chunk < 2000 then return end
    end
    from = from + 1000
  end
end

-- The state of a job in a structure, given its score there.
local function state_in(kind, score)
  if kind == 'w' then return 'running' end
  if kind == 'b' then return 'blocked' end
  if kind == 'q' then return 'ready' end
  if kind == 'd' then return 'dead' end
  if kind == 'c' then return 'completed' end
  if score > t then return kind == 's' and 'scheduled' or 'retrying' end
  return 'ready'
end

-- Where the job `jid` is in a structure: its state there, or nil. With one key to look up, a
-- scan that stops where it finds the job; with several, each structure is read once into an
-- index of the jids it holds, so that a batch costs one pass over each, not one per job.
local indexed = false
local indexes = {}
local function find(kind, name, jid)
  if not indexed then
    local needle, found = '"jid":"' .. jid .. '"', nil
    each(kind, name, function(job, score)
      if string.find(job, needle, 1, true) then
        found = state_in(kind, score)
        return true
      end
    end)
    return found
  end
  local index = indexes[kind .. name]
  if not index then
    index = {}
    each(kind, name, function(job, score)
      for one in string.gmatch(job, '"jid":"([^"]*)"') do index[one] = state_in(kind, score) end
    end)
    indexes[kind .. name] = index
  end
  return index[jid]
end

-- Whether the holder `h` holds its key against a job naming the `states` (a comma-separated
-- list): looks for it only where those states keep jobs, the cheapest places first, and stops
-- where it is found. A holder stored by this same call is where it was just put (`h.fresh`).
local function holds(h, states)
  if h.till ~= '' and tonumber(h.till) <= t then return false end
  local wanted = {}
  for state in string.gmatch(states, '[^,]+') do wanted[state] = true end
  if h.fresh then return wanted[h.fresh] == true end
  local places = {}
  if wanted.running then places[#places + 1] = {'w', ''} end
  if wanted.blocked and h.concurrency ~= '' then places[#places + 1] = {'b', h.concurrency} end
  if wanted.ready then places[#places + 1] = {'q', h.queue} end
  if wanted.scheduled or wanted.ready then places[#places + 1] = {'s', ''} end
  if wanted.retrying or wanted.ready then places[#places + 1] = {'r', ''} end
  if wanted.dead then places[#places + 1] = {'d', ''} end
  if wanted.completed then places[#places + 1] = {'c', ''} end
  for _, place in ipairs(places) do
    local state = find(place[1], place[2], h.jid)
    if state then return wanted[state] == true end
  end
  return false
end

local lookups = 0
for i = 5, #ARGV, 10 do
  if ARGV[i + 6] ~= '' then lookups = lookups + 1 end
end
indexed = lookups > 1

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
