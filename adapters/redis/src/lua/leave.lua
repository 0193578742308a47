-- Workers leave Sidekiq's process list: ARGV[5] runs processed, ARGV[6] failed (added to
-- Sidekiq's counters), ARGV[7] today's date, ARGV[8] '1' when this adapter has no worker left
-- (its own liveness key goes too: jobs it still holds are handed back by the next rescue),
-- ARGV[9..] the workers' identities.
for i, stat in ipairs({'processed', 'failed'}) do
  local n = tonumber(ARGV[4 + i])
  if n > 0 then
    redis.call('INCRBY', P .. 'stat:' .. stat, n)
    redis.call('INCRBY', P .. 'stat:' .. stat .. ':' .. ARGV[7], n)
    redis.call('EXPIRE', P .. 'stat:' .. stat .. ':' .. ARGV[7], 157680000)
  end
end
for i = 9, #ARGV do
  local key = P .. ARGV[i]
  redis.call('SREM', P .. 'processes', ARGV[i])
  redis.call('DEL', key, key .. ':work', key .. ':workers', key .. '-signals')
end
if ARGV[8] == '1' then
  redis.call('DEL', P .. IDENTITY)
end
return 0
