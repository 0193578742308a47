-- Process heartbeat: ARGV[5] the process's info (JSON), ARGV[6] TTL (seconds), ARGV[7] RSS in
-- KiB, ARGV[8] 'true' when quiet, ARGV[9] and ARGV[10] jobs processed and failed since the last
-- beat, ARGV[11] today's date. Marks this process alive, in Sidekiq's layout so that its Web UI
-- lists it (Busy page) with the jobs it holds, as Sidekiq 6 (`:workers`) and 7 (`:work`) show
-- running jobs, and adds to Sidekiq's counters as its processes do. Returns how many jobs it holds.
local t = now()
local key = P .. IDENTITY
local ttl = tonumber(ARGV[6])
for i, stat in ipairs({'processed', 'failed'}) do
  local n = tonumber(ARGV[8 + i])
  if n > 0 then
    redis.call('INCRBY', P .. 'stat:' .. stat, n)
    redis.call('INCRBY', P .. 'stat:' .. stat .. ':' .. ARGV[11], n)
    redis.call('EXPIRE', P .. 'stat:' .. stat .. ':' .. ARGV[11], 157680000)
  end
end
local held = redis.call('HGETALL', P .. 'jobs:working:' .. IDENTITY)
redis.call('SADD', P .. 'processes', IDENTITY)
redis.call('SADD', P .. 'jobs:processes', IDENTITY)
redis.call('HSET', key, 'info', ARGV[5], 'busy', #held / 2, 'beat', t, 'quiet', ARGV[8], 'rss', ARGV[7], 'rtt_us', 0)
redis.call('EXPIRE', key, ttl)
for _, suffix in ipairs({':workers', ':work'}) do
  redis.call('UNLINK', key .. suffix)
  for i = 1, #held, 2 do
    local work = {queue = queue_of(held[i + 1]) or 'unknown', payload = held[i + 1], run_at = math.floor(t)}
    redis.call('HSET', key .. suffix, held[i], cjson.encode(work))
  end
  redis.call('EXPIRE', key .. suffix, ttl)
end
return #held / 2
