--[[
  Create an alert record unless one exists with its id.

  An idempotent retry re-uses the id its first attempt reserved; if that
  attempt got as far as writing the record, the retry must leave it be.

  KEYS[1] alert record (hash)
  ARGV    field, value, field, value, ...

  Returns 1 when written, 0 when the record already existed.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
