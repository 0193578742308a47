-- Reads the history from ARGV[5] (a minute, seconds since the epoch) to the server's current
-- minute and a few beyond (workers' clocks may run ahead). Returns {minute, field, count, ...}.
local first = tonumber(ARGV[5])
local last = math.floor(now() / 60) * 60 + 300
local out = {}
for minute = first, last, 60 do
  local fields = redis.call('HGETALL', P .. 'jobs:history:' .. int(minute))
  for i = 1, #fields, 2 do
    out[#out + 1] = int(minute)
    out[#out + 1] = fields[i]
    out[#out + 1] = fields[i + 1]
  end
end
return out
