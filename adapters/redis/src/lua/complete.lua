-- Complete: ARGV[5] how many completed jobs to keep findable (0 keeps none), ARGV[6..] fencing
-- tokens. Only tokens still in this process's working hash count: a stale claim changes nothing.
-- Completed jobs go to the capped sorted set jobs:done, scored by the time they completed.
-- Returns how many completed.
local keep = tonumber(ARGV[5])
local runs = P .. 'jobs:runs:' .. IDENTITY
local work, leases = P .. 'jobs:working:' .. IDENTITY, P .. 'jobs:leases:' .. IDENTITY
local tokens = {}
for i = 6, #ARGV do tokens[#tokens + 1] = ARGV[i] end
if #tokens == 0 then return 0 end

if keep == 0 then
  local n = 0
  for _, deleted in ipairs(chunked({'HDEL', work}, tokens, 1000)) do n = n + deleted end
  chunked({'ZREM', leases}, tokens, 1000)
  chunked({'HDEL', runs}, tokens, 1000)
  return n
end

local current, done = {}, {}
local index = 0
for _, reply in ipairs(chunked({'HMGET', work}, tokens, 1000)) do
  for _, job in ipairs(reply) do
    index = index + 1
    if job then
      current[#current + 1] = tokens[index]
      done[#done + 1] = job
    end
  end
end
if #current == 0 then return 0 end
chunked({'HDEL', work}, current, 1000)
chunked({'ZREM', leases}, current, 1000)
chunked({'HDEL', runs}, current, 1000)
local t = now()
local scored = {}
for _, job in ipairs(done) do
  scored[#scored + 1] = t
  scored[#scored + 1] = job
end
chunked({'ZADD', P .. 'jobs:done'}, scored, 2000)
redis.call('ZREMRANGEBYRANK', P .. 'jobs:done', 0, -(keep + 1))
return #current
