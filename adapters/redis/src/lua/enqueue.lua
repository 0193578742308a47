-- Enqueue: ARGV[5..] holds four values per job: queue, priority, due time ('' for now; float
-- seconds) and the envelope (see store.lua). Returns how many jobs were stored.
return store(ARGV, 5)
