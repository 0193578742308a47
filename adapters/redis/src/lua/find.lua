-- Find one job by id: ARGV[5] the id (a jid). Looks where a job can be: held by a worker, in a
-- queue, in the schedule, retry, dead and completed sets. Returns {now, kind, extra, job} as
-- snapshot.lua does, or {now} when no job has that id. O(jobs stored), like Sidekiq's own API.
local t = now()
local needle = '"jid":"' .. ARGV[5] .. '"'
local function has(job)
  return string.find(job, needle, 1, true) ~= nil
end
for _, identity in ipairs(redis.call('SMEMBERS', P .. 'jobs:processes')) do
  for _, job in ipairs(redis.call('HVALS', P .. 'jobs:working:' .. identity)) do
    if has(job) then return {string.format('%.6f', t), 'w', identity, job} end
  end
end
for _, queue in ipairs(redis.call('SMEMBERS', P .. 'queues')) do
  for _, job in ipairs(redis.call('LRANGE', P .. 'queue:' .. queue, 0, -1)) do
    if has(job) then return {string.format('%.6f', t), 'q', queue, job} end
  end
end
for _, pair in ipairs({{'s', 'schedule'}, {'r', 'retry'}, {'d', 'dead'}}) do
  local members = redis.call('ZRANGE', P .. pair[2], 0, -1, 'WITHSCORES')
  for i = 1, #members, 2 do
    if has(members[i]) then return {string.format('%.6f', t), pair[1], members[i + 1], members[i]} end
  end
end
for _, job in ipairs(redis.call('LRANGE', P .. 'jobs:completed', 0, -1)) do
  if has(job) then return {string.format('%.6f', t), 'c', '', job} end
end
return {string.format('%.6f', t)}
