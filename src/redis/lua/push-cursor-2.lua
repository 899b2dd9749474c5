--[[
  Move the Web Push sender's cursor, only while the caller holds the
  lease: a worker that lost it (paused past its expiry) cannot move the
  cursor under the worker that took over.

  KEYS[1] lease (string: the holder's token)
  KEYS[2] cursor (string: the last eventId fully handled)

  ARGV[1] token of the caller
  ARGV[2] eventId

  Returns
    1  moved
    0  the caller no longer holds the lease; nothing changed
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
