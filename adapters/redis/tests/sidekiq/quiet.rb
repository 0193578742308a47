# Quiets the process ARGV[0] as Sidekiq's Web UI does (Sidekiq::Process#quiet!, a TSTP on its
# signal list). Prints {"found": true or false}.
require_relative "app"
require "sidekiq/api"

process = Sidekiq::ProcessSet.new.find { |p| p.identity == ARGV[0] }
process&.quiet!
puts JSON.generate("found" => !process.nil?)
