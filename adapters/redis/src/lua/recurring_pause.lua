-- Pauses (ARGV[6] = '1') or resumes the recurring task ARGV[5], if it exists. Returns 1 when it
-- does, else 0.
local key = ARGV[5]
if redis.call('HEXISTS', P .. 'recurring:tasks', key) == 0 then
  return 0
end
if ARGV[6] == '1' then
  redis.call('SADD', P .. 'recurring:paused', key)
else
  redis.call('SREM', P .. 'recurring:paused', key)
end
return 1
