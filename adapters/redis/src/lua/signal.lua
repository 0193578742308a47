-- Signals a live process as Sidekiq's Web UI does: ARGV[5] its identity, ARGV[6] the signal
-- ('TSTP' quiet, 'TERM' stop), pushed on `IDENTITY-signals` for its next heartbeat. Returns 1,
-- or 0 when no live process has that identity.
local key = P .. ARGV[5]
if redis.call('SISMEMBER', P .. 'processes', ARGV[5]) == 0 or redis.call('HEXISTS', key, 'info') == 0 then
  return 0
end
redis.call('LPUSH', key .. '-signals', ARGV[6])
redis.call('EXPIRE', key .. '-signals', 60)
return 1
