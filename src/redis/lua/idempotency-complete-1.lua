--[[
  Remember the successful response of an idempotent request, keeping the
  key's original expiry (24 h from its first use).

  KEYS[1] idempotency record (hash)
  ARGV[1] response JSON

  Returns 1 when stored, 0 when the reservation is gone (expired).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'response', ARGV[1])
return 1
