-- Save progress: ARGV[5] fencing token, ARGV[6] the envelope the worker read from this process's
-- working hash, ARGV[7] that envelope with the job's progress as its payload. Replaces the working
-- copy (what a rescue hands out) only while this claim still holds it, unchanged since it was
-- read: a stale claim changes nothing. Returns 1 when stored, else 0.
local work = P .. 'jobs:working:' .. IDENTITY
if redis.call('HGET', work, ARGV[5]) ~= ARGV[6] then
  return 0
end
redis.call('HSET', work, ARGV[5], ARGV[7])
return 1
