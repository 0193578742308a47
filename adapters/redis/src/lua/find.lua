-- Find jobs by id: ARGV[5] the id, a jid or an Active Job job_id (several jobs share one once
-- retry_on has enqueued a retry as a new job). Looks everywhere a job can be: held by a worker,
-- in a queue, blocked on a concurrency key, in the schedule, retry, dead and done sets. Returns
-- {now, then per job: kind ('w', 'q', 'b', 's', 'r', 'd', 'c'), where (the process, the queue or
-- the concurrency key; the score for a set), its
-- claim for 'w' ('started<TAB>worker'), job} for every job whose text has the id; the caller
-- picks. O(jobs stored), like Sidekiq's own API.
local t = now()
local jid = '"jid":"' .. ARGV[5] .. '"'
local job_id = '"job_id":"' .. ARGV[5] .. '"'
local function has(job)
  return string.find(job, jid, 1, true) ~= nil or string.find(job, job_id, 1, true) ~= nil
end
local found = {string.format('%.6f', t)}
local function add(kind, extra, claim, job)
  found[#found + 1] = kind
  found[#found + 1] = extra
  found[#found + 1] = claim
  found[#found + 1] = job
end
for _, identity in ipairs(redis.call('SMEMBERS', P .. 'jobs:processes')) do
  local held = redis.call('HGETALL', P .. 'jobs:working:' .. identity)
  for i = 1, #held, 2 do
    if has(held[i + 1]) then
      add('w', identity, redis.call('HGET', P .. 'jobs:runs:' .. identity, held[i]) or '', held[i + 1])
    end
  end
end
for _, queue in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
  for _, job in ipairs(redis.call('LRANGE', P .. 'queue:' .. queue, 0, -1)) do
    if has(job) then add('q', queue, '', job) end
  end
end
for _, key in ipairs(redis.call('SMEMBERS', P .. 'jobs:blocked-keys')) do
  for _, job in ipairs(redis.call('LRANGE', P .. 'jobs:blocked:' .. key, 0, -1)) do
    if has(job) then add('b', key, '', job) end
  end
end
for _, pair in ipairs({{'s', 'schedule'}, {'r', 'retry'}, {'d', 'dead'}, {'c', 'jobs:done'}}) do
  local members = redis.call('ZRANGE', P .. pair[2], 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    if has(members[i]) then add(pair[1], members[i + 1], '', members[i]) end
  end
end
return found
