-- A worker's heartbeat, in Sidekiq's layout so that its Web UI (Busy page) lists the worker
-- with the jobs it runs: ARGV[5] the worker's identity (its id), ARGV[6] its info (JSON),
-- ARGV[7] its time to live (milliseconds), ARGV[8] busy, ARGV[9] Sidekiq's quiet field
-- ('false', 'true' or 'stopping'), ARGV[10] RSS in KiB, ARGV[11] and ARGV[12] runs processed
-- and failed since the last beat, ARGV[13] today's date, ARGV[14] how long this adapter's
-- working set stays protected (seconds). Also keeps this adapter's own liveness (the key
-- IDENTITY, which protects its working set from rescue), adds to Sidekiq's counters as its
-- processes do, and takes the signals left for the worker (`IDENTITY-signals`, Sidekiq's TSTP
-- and TERM). Returns those signals, oldest first.
local t = now()
local id, ttl = ARGV[5], tonumber(ARGV[7])
local key = P .. id
for i, stat in ipairs({'processed', 'failed'}) do
  local n = tonumber(ARGV[10 + i])
  if n > 0 then
    redis.call('INCRBY', P .. 'stat:' .. stat, n)
    redis.call('INCRBY', P .. 'stat:' .. stat .. ':' .. ARGV[13], n)
    redis.call('EXPIRE', P .. 'stat:' .. stat .. ':' .. ARGV[13], 157680000)
  end
end
redis.call('SADD', P .. 'processes', id)
redis.call('HSET', key, 'info', ARGV[6], 'busy', ARGV[8], 'beat', t, 'quiet', ARGV[9], 'rss', ARGV[10], 'rtt_us', 0)
redis.call('PEXPIRE', key, ttl)

-- The jobs this worker runs: Sidekiq 7's `:work` and Sidekiq 6's `:workers`, field a thread
-- (here: the claim token), value {queue, payload (the job as a JSON string), run_at}.
local runs = redis.call('HGETALL', P .. 'jobs:runs:' .. IDENTITY)
local work = {}
for i = 1, #runs, 2 do
  local started, worker = string.match(runs[i + 1], '^([^\t]*)\t(.*)$')
  if worker == id then
    local job = redis.call('HGET', P .. 'jobs:working:' .. IDENTITY, runs[i])
    if job then
      work[#work + 1] = runs[i]
      work[#work + 1] = cjson.encode({queue = queue_of(job) or 'default', payload = job, run_at = math.floor(tonumber(started) or t)})
    end
  end
end
for _, suffix in ipairs({':work', ':workers'}) do
  redis.call('UNLINK', key .. suffix)
  if #work > 0 then
    chunked({'HSET', key .. suffix}, work, 1000)
    redis.call('PEXPIRE', key .. suffix, ttl)
  end
end

redis.call('HSET', P .. IDENTITY, 'beat', t)
redis.call('EXPIRE', P .. IDENTITY, tonumber(ARGV[14]))
redis.call('SADD', P .. 'jobs:processes', IDENTITY)

local signals = redis.call('LRANGE', key .. '-signals', 0, -1)
if #signals > 0 then redis.call('DEL', key .. '-signals') end
local oldest_first = {}
for i = #signals, 1, -1 do oldest_first[#oldest_first + 1] = signals[i] end
return oldest_first
