-- Next due: moves due scheduled jobs and retries to their queues, then returns the seconds
-- until the earliest one left is due (a string, as Lua numbers reach the client truncated to
-- integers): '0' when some moved (a claim finds them now), false when both sets are empty.
-- The sets are Sidekiq's and hold every queue's jobs, so the answer is for all queues.
local t = now()
if promote('schedule', t) + promote('retry', t) > 0 then
  return '0'
end
local earliest
for _, set in ipairs({'schedule', 'retry'}) do
  local first = redis.call('ZRANGE', P .. set, 0, 0, 'WITHSCORES')
  if first[2] then
    local at = tonumber(first[2])
    if not earliest or at < earliest then earliest = at end
  end
end
if not earliest then return false end
return string.format('%.6f', math.max(earliest - t, 0))
