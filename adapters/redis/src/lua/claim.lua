-- Claim: ARGV[5] lease (seconds), ARGV[6] limit, ARGV[7] process TTL (seconds), ARGV[8] '1' to
-- promote due scheduled jobs and retries first, ARGV[9] the claiming worker's id, ARGV[10..] the
-- queues in order of precedence ('*' stands for every queue in the `queues` set). Each claimed
-- job moves, in this one atomic step, from its queue into this process's working hash under a
-- new fencing token, with a lease, and its run (start time and worker) into jobs:runs.
-- Returns {first token, job, job, ...}: tokens are consecutive, in the order of the jobs.
local t = now()
if ARGV[8] == '1' then
  promote('schedule', t)
  promote('retry', t)
end

local lease, limit, ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local paused = {}
for _, queue in ipairs(redis.call('SMEMBERS', P .. 'jobs:paused')) do
  paused[queue] = true
end

local order, seen = {}, {}
local function consider(queue)
  if not seen[queue] then
    seen[queue] = true
    if not paused[queue] then order[#order + 1] = queue end
  end
end
for i = 10, #ARGV do
  if ARGV[i] == '*' then
    local all = redis.call('SMEMBERS', P .. 'queues')
    table.sort(all)
    for _, queue in ipairs(all) do consider(queue) end
  else
    consider(ARGV[i])
  end
end

local jobs = {}
for _, queue in ipairs(order) do
  local want = limit - #jobs
  if want <= 0 then break end
  local got = redis.call('RPOP', P .. 'queue:' .. queue, want)
  if got then
    for _, job in ipairs(got) do jobs[#jobs + 1] = job end
  end
end
if #jobs == 0 then return {} end

local first = redis.call('INCRBY', P .. 'jobs:claims', #jobs) - #jobs + 1
local fields, leases, runs = {}, {}, {}
local run = string.format('%.6f', t) .. '\t' .. ARGV[9]
for i, job in ipairs(jobs) do
  local token = int(first + i - 1)
  fields[#fields + 1] = token
  fields[#fields + 1] = job
  leases[#leases + 1] = t + lease
  leases[#leases + 1] = token
  runs[#runs + 1] = token
  runs[#runs + 1] = run
end
chunked({'HSET', P .. 'jobs:working:' .. IDENTITY}, fields, 2000)
chunked({'ZADD', P .. 'jobs:leases:' .. IDENTITY}, leases, 2000)
chunked({'HSET', P .. 'jobs:runs:' .. IDENTITY}, runs, 2000)

-- This process holds jobs now: it counts as alive for at least the TTL (heartbeats extend it).
local left = redis.call('TTL', P .. IDENTITY)
if left == -2 then
  redis.call('HSET', P .. IDENTITY, 'beat', t)
  redis.call('SADD', P .. 'jobs:processes', IDENTITY)
end
if left < ttl then
  redis.call('EXPIRE', P .. IDENTITY, ttl)
end

local reply = {first}
for _, job in ipairs(jobs) do reply[#reply + 1] = job end
return reply
