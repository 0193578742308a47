-- Removes the recurring tasks ARGV[5..] with their state (paused, last run); the keys of their
-- ticks expire on their own. Returns how many tasks there were.
local removed = 0
for i = 5, #ARGV do
  removed = removed + redis.call('HDEL', P .. 'recurring:tasks', ARGV[i])
  redis.call('SREM', P .. 'recurring:paused', ARGV[i])
  redis.call('HDEL', P .. 'recurring:last', ARGV[i])
end
return removed
