--[[
  A fan-out worker says it is running, for the next ARGV[2] ms by Redis's
  clock, or (ARGV[2] = '0') that it has stopped. The accept script sends an
  alert itself only while some worker's claim holds: with every worker
  stopped, alerts wait in the queue for them, flash first.

  KEYS[1] running workers (sorted set: worker id by the ms its claim lapses)
  ARGV[1] worker id
  ARGV[2] how long the claim holds, ms; '0' to withdraw it

  Returns the number of claims holding after this one.
]]
--- @include "now-ms"

local now = nowMs()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[2] == '0' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
end
return redis.call('ZCARD', KEYS[1])
