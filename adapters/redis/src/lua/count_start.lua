-- Count a start: ARGV[5] the throttle key, ARGV[6] the window's number, ARGV[7] how long to keep
-- the count (milliseconds). Adds one to jobs:throttle:WINDOW:KEY, which expires then. Returns the
-- count, this start included.
local counter = P .. 'jobs:throttle:' .. ARGV[6] .. ':' .. ARGV[5]
local n = redis.call('INCR', counter)
if n == 1 then
  redis.call('PEXPIRE', counter, ARGV[7])
end
return n
