-- Adds per-minute counts to the history: ARGV[5] how long to keep a minute (seconds), then four
-- values per point: the minute (seconds since the epoch), the field ('queue<TAB>class'), runs
-- processed and runs failed. A minute is the hash jobs:history:MINUTE with the fields
-- 'p<TAB>queue<TAB>class' and 'f<TAB>queue<TAB>class'.
local keep = tonumber(ARGV[5])
for i = 6, #ARGV, 4 do
  local key = P .. 'jobs:history:' .. ARGV[i]
  if tonumber(ARGV[i + 2]) > 0 then redis.call('HINCRBY', key, 'p\t' .. ARGV[i + 1], ARGV[i + 2]) end
  if tonumber(ARGV[i + 3]) > 0 then redis.call('HINCRBY', key, 'f\t' .. ARGV[i + 1], ARGV[i + 3]) end
  redis.call('EXPIRE', key, keep)
end
return 0
