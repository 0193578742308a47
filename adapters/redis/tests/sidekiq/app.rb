# The Rails side of tests/sidekiq.rs: Active Job on Sidekiq, and a HelloJob like the Rust one.
# Sidekiq (client and server) finds Redis at REDIS_URL; HelloJob appends what it performs to the
# file at PERFORMED, one JSON line per run.
require "json"
require "sidekiq"
require "active_job"

ActiveJob::Base.queue_adapter = :sidekiq
ActiveJob::Base.logger = Logger.new(nil)
Sidekiq.logger.level = Logger::WARN
Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)

class HelloJob < ActiveJob::Base
  queue_as :rust

  def perform(name, count)
    raise ArgumentError, "#{name} is not welcome here" if name == "boom"
    File.open(ENV.fetch("PERFORMED"), "a") do |f|
      f.puts(JSON.generate("name" => name, "count" => count, "jid" => provider_job_id, "job_id" => job_id))
    end
  end
end
