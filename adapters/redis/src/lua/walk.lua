-- Walk: one bounded batch of one structure, for listing jobs and acting on them page by page.
-- ARGV[5] 'asc' or 'desc'; ARGV[6] the structure: 'q' (a queue list; ARGV[7] its name), 'b' (the
-- list of jobs blocked on a concurrency key, walked as a queue list; ARGV[7] the key), 'w'
-- (a process's working hash; ARGV[7] its identity), 's', 'r', 'd', 'c' (the schedule, retry,
-- dead and done sorted sets). ARGV[8] where the previous batch stopped ('' from the start): a
-- position from the walk's end for 'q' (0 is the oldest job, at the right end, walking 'asc';
-- the newest, at the left end, walking 'desc'), a token for 'w', a score for the sets;
-- ARGV[9] the list's length then ('q'); ARGV[10] the jid of the job at that position ('' to
-- trust the position as it is). ARGV[11] how many entries to scan at most, ARGV[12] how many
-- candidates to return at most. ARGV[13], ARGV[14] score bounds for the sets ('' for none,
-- inclusive), ARGV[15] 'future' or 'due' to keep only jobs of the schedule and retry sets that
-- wait or are due, ARGV[16..18] texts every candidate contains ('' for none), ARGV[19..] jids
-- of which a candidate has one (none: any job).
-- Returns {now, exhausted ('1' or '0'), resume position, resume length, resume jid, then per
-- candidate: position, extra (a 'w' job's claim: 'started<TAB>worker'), job}.
-- A queue list moves while it is walked: jobs are pushed on the left, taken from the right,
-- inserted by priority and handed back on the right. A position is checked against the jid it
-- had and looked for near where it was and where the change of length puts it; a job no longer
-- found was taken (claims take the oldest first), so an 'asc' walk goes on from the oldest job
-- and a 'desc' walk is over. Sets are walked by score; jobs of equal score (a batch) are told
-- apart by their rank among those of that score, checked with the jid.
local t = now()
local asc = ARGV[5] == 'asc'
local kind, name, pos, len_then, last = ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]) or 0, ARGV[10]
local budget, want = tonumber(ARGV[11]), tonumber(ARGV[12])
local lo, hi, mode = ARGV[13], ARGV[14], ARGV[15]
local needles = {}
for i = 16, 18 do
  if ARGV[i] ~= '' then needles[#needles + 1] = ARGV[i] end
end
local ids = nil
if #ARGV >= 19 then
  ids = {}
  for i = 19, #ARGV do ids[ARGV[i]] = true end
end

local function wanted(job)
  for _, needle in ipairs(needles) do
    if not string.find(job, needle, 1, true) then return false end
  end
  if ids then
    for jid in string.gmatch(job, '"jid":"([^"]*)"') do
      if ids[jid] then return true end
    end
    return false
  end
  return true
end

local function has_jid(job, jid)
  return string.find(job, '"jid":"' .. jid .. '"', 1, true) ~= nil
end

local out = {string.format('%.6f', t), '0', '', '', ''}
local found = 0
local function add(p, extra, job)
  out[#out + 1] = p
  out[#out + 1] = extra
  out[#out + 1] = job
  found = found + 1
end

if kind == 'q' or kind == 'b' then
  local key = P .. 'queue:' .. name
  if kind == 'b' then key = P .. 'jobs:blocked:' .. name end
  local len = redis.call('LLEN', key)
  -- A position counted from the walk's end, as a list index.
  local function index(p) if asc then return -(p + 1) else return p end end
  local function at(p) return redis.call('LINDEX', key, index(p)) end
  local start = 0
  if pos ~= '' then
    local p = tonumber(pos)
    if last == '' then
      start = p + 1
    else
      local moved = asc and (p - (len_then - len)) or (p + (len - len_then))
      start = nil
      for _, guess in ipairs({p, moved}) do
        if guess >= 0 then
          local job = at(guess)
          if job and has_jid(job, last) then start = guess + 1 break end
        end
      end
      if not start then
        for _, guess in ipairs({p, moved}) do
          local from = math.max(0, guess - 256)
          local window
          if asc then
            window = redis.call('LRANGE', key, -(guess + 257), -(from + 1))
            for i = #window, 1, -1 do
              if has_jid(window[i], last) then start = from + (#window - i) + 1 break end
            end
          else
            window = redis.call('LRANGE', key, from, guess + 256)
            for i, job in ipairs(window) do
              if has_jid(job, last) then start = from + i break end
            end
          end
          if start then break end
        end
      end
      if not start then
        if asc then start = 0 else start = len end
      end
    end
  end
  local batch
  if asc then
    batch = redis.call('LRANGE', key, -(start + budget), -(start + 1))
  else
    batch = redis.call('LRANGE', key, start, start + budget - 1)
  end
  local n = #batch
  local p = start - 1
  for k = 1, n do
    local job = asc and batch[n - k + 1] or batch[k]
    p = p + 1
    if wanted(job) then
      add(tostring(p), '', job)
      if found >= want then break end
    end
  end
  out[2] = (p == start + n - 1 and n < budget) and '1' or '0'
  out[3], out[4], out[5] = tostring(p), tostring(len), ''
  if p >= start then
    out[5] = string.match(at(p) or '', '"jid":"([^"]*)"') or ''
  end
  return out
end

if kind == 'w' then
  local held = redis.call('HGETALL', P .. 'jobs:working:' .. name)
  local tokens, jobs = {}, {}
  for i = 1, #held, 2 do
    local token = tonumber(held[i])
    if pos == '' or (asc and token > tonumber(pos)) or ((not asc) and token < tonumber(pos)) then
      tokens[#tokens + 1] = token
      jobs[token] = held[i + 1]
    end
  end
  if asc then table.sort(tokens) else table.sort(tokens, function(a, b) return a > b end) end
  local runs = P .. 'jobs:runs:' .. name
  out[2] = '1'
  for k, token in ipairs(tokens) do
    if wanted(jobs[token]) then
      add(int(token), redis.call('HGET', runs, int(token)) or '', jobs[token])
      if found >= want and k < #tokens then
        out[2] = '0'
        out[3] = int(token)
        return out
      end
    end
  end
  return out
end

local key = P .. ({s = 'schedule', r = 'retry', d = 'dead', c = 'jobs:done'})[kind]
local min, max = '-inf', '+inf'
if lo ~= '' then min = lo end
if hi ~= '' then max = hi end
if mode == 'future' then
  if min == '-inf' or tonumber(min) <= t then min = '(' .. string.format('%.6f', t) end
elseif mode == 'due' then
  if max == '+inf' or tonumber(max) > t then max = string.format('%.6f', t) end
end
local skip = 0
if pos ~= '' then
  -- A job without a jid cannot be told from others of its score: the walk goes past them all.
  local edge = pos
  if last == '' then edge = '(' .. pos end
  if asc then min = edge else max = edge end
  if last ~= '' then
    local run
    if asc then run = redis.call('ZRANGEBYSCORE', key, pos, pos) else run = redis.call('ZREVRANGEBYSCORE', key, pos, pos) end
    for i, job in ipairs(run) do
      if has_jid(job, last) then skip = i break end
    end
  end
end
local batch
if asc then
  batch = redis.call('ZRANGEBYSCORE', key, min, max, 'WITHSCORES', 'LIMIT', skip, budget)
else
  batch = redis.call('ZREVRANGEBYSCORE', key, max, min, 'WITHSCORES', 'LIMIT', skip, budget)
end
out[2] = (#batch / 2 < budget) and '1' or '0'
for i = 1, #batch, 2 do
  local job, score = batch[i], batch[i + 1]
  out[3] = score
  out[5] = string.match(job, '"jid":"([^"]*)"') or ''
  if wanted(job) then
    add(score, '', job)
    if found >= want and i + 1 < #batch then
      out[2] = '0'
      return out
    end
  end
end
return out
