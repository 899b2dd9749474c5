--[[
  Reserve an Idempotency-Key for one request body, before anything is made.

  The reservation holds the alert id (and creation time) the request will
  use, so a request that crashed half-way and is retried with the same key
  finishes the same alert instead of making a second one, and requests that
  race on one key all converge on one alert.

  KEYS[1] idempotency record (hash: fp, alertId, createdAt, response)

  ARGV[1] fingerprint of the canonical JSON body
  ARGV[2] alert id to use if this request is the first
  ARGV[3] creation time (ms) to use if this request is the first
  ARGV[4] time to keep the key, ms (24 h)

  Returns
    { 'reserved', alertId, createdAt }  first use: this request makes the alert
    { 'pending', alertId, createdAt }   same body, not finished (in flight or crashed)
    { 'done', response }                same body, finished: replay the response
    { 'mismatch' }                      the key was used with another body
]]
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'alertId', ARGV[2], 'createdAt', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return { 'reserved', ARGV[2], ARGV[3] }
end
if fp ~= ARGV[1] then return { 'mismatch' } end
local response = redis.call('HGET', KEYS[1], 'response')
if response then return { 'done', response } end
local h = redis.call('HMGET', KEYS[1], 'alertId', 'createdAt')
return { 'pending', h[1], h[2] }
