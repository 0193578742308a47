# What Sidekiq's Web UI shows, read through the same API it uses: queues, the schedule and retry
# sets, processes. Prints one JSON object.
require_relative "app"
require "sidekiq/api"

def entry(job)
  {
    "class" => job.display_class, "args" => job.display_args, "jid" => job.jid, "queue" => job.queue,
    "at" => job.respond_to?(:at) ? job.at&.to_f : nil, "enqueued_at" => job.enqueued_at&.to_f,
    "created_at" => job.created_at&.to_f, "error_class" => job["error_class"],
    "error_message" => job["error_message"], "retry_count" => job["retry_count"],
  }
end

puts JSON.generate(
  "queues" => Sidekiq::Queue.all.map { |q| [q.name, q.size] }.to_h,
  "queued" => Sidekiq::Queue.all.flat_map { |q| q.map { |job| entry(job) } },
  "scheduled" => Sidekiq::ScheduledSet.new.map { |job| entry(job) },
  "retries" => Sidekiq::RetrySet.new.map { |job| entry(job) },
  "dead" => Sidekiq::DeadSet.new.map { |job| entry(job) },
  "processes" => Sidekiq::ProcessSet.new.map { |p| %w[identity hostname pid busy queues labels quiet].to_h { |k| [k, p[k]] } },
  "workers" => Sidekiq::Workers.new.map { |process, thread, work|
    { "process" => process, "thread" => thread, "queue" => work["queue"], "run_at" => work["run_at"],
      "jid" => work["payload"]["jid"], "class" => Sidekiq::JobRecord.new(work["payload"]).display_class }
  },
  "stats" => { "processed" => Sidekiq::Stats.new.processed, "failed" => Sidekiq::Stats.new.failed },
)
