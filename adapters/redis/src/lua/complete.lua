-- Complete: ARGV[5] how long completed jobs stay findable (seconds), ARGV[6] how many at most (0
-- keeps none), ARGV[7] today's date (for Sidekiq's daily stats), ARGV[8..] fencing tokens.
-- Only tokens still in this process's working hash count: a stale claim changes nothing.
-- Returns how many were completed.
local t = now()
local retention, keep, date = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local work, leases = P .. 'jobs:working:' .. IDENTITY, P .. 'jobs:leases:' .. IDENTITY
local tokens = {}
for i = 8, #ARGV do tokens[#tokens + 1] = ARGV[i] end
if #tokens == 0 then return 0 end

local current, done = {}, {}
local index = 0
for _, reply in ipairs(chunked({'HMGET', work}, tokens, 1000)) do
  for _, job in ipairs(reply) do
    index = index + 1
    if job then
      current[#current + 1] = tokens[index]
      done[#done + 1] = t
      done[#done + 1] = job
    end
  end
end
if #current == 0 then return 0 end

chunked({'HDEL', work}, current, 1000)
chunked({'ZREM', leases}, current, 1000)
if keep > 0 then
  local completed = P .. 'jobs:completed'
  chunked({'ZADD', completed}, done, 2000)
  redis.call('ZREMRANGEBYSCORE', completed, '-inf', t - retention)
  redis.call('ZREMRANGEBYRANK', completed, 0, -(keep + 1))
end
redis.call('INCRBY', P .. 'stat:processed', #current)
redis.call('INCRBY', P .. 'stat:processed:' .. date, #current)
redis.call('EXPIRE', P .. 'stat:processed:' .. date, 157680000)
return #current
