-- The live processes of Sidekiq's process set, Rust workers and Sidekiq's own alike: returns
-- {now, then per process: identity, info, busy, beat, quiet}. Members whose entry expired (no
-- heartbeat within their time to live) are removed from the set, as Sidekiq's cleanup does.
local out = {string.format('%.6f', now())}
local members = redis.call('SMEMBERS', P .. 'processes')
table.sort(members)
for _, id in ipairs(members) do
  local fields = redis.call('HMGET', P .. id, 'info', 'busy', 'beat', 'quiet')
  if fields[1] then
    out[#out + 1] = id
    for _, v in ipairs(fields) do out[#out + 1] = v or '' end
  else
    redis.call('SREM', P .. 'processes', id)
  end
end
return out
