# Rails enqueues for Rust: two HelloJobs through Active Job's Sidekiq adapter, one of them
# scheduled a second ahead. Prints {"now": provider job id, "later": provider job id}.
require_relative "app"

now = HelloJob.perform_later("world", 42)
later = HelloJob.set(wait: 1).perform_later("later", 7)
puts JSON.generate("now" => now.provider_job_id, "later" => later.provider_job_id)
