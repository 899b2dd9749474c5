--[[
  Give up a reservation whose request failed before it made anything: only
  successful responses are remembered, so the key is free again. If the
  alert record exists the reservation stays, so a retry finishes that alert
  rather than making a second one.

  KEYS[1] idempotency record (hash)
  KEYS[2] the reserved alert's record (hash)
  ARGV[1] the reserved alert id

  Returns 1 when released, 0 when kept.
]]
if redis.call('HGET', KEYS[1], 'alertId') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'response') == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
return 1
