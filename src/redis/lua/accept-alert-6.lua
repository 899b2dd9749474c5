--[[
  Accept one alert in one step: the key check, the rate limit, the
  Idempotency-Key and the record, so a POST costs one round trip and one
  fsync. It runs first in a MULTI whose next command is BullMQ's own job
  add and whose last is accept-settle-3.lua.

  Every command of a MULTI runs, so when this script refuses it leaves a
  stand-in at the job's key: BullMQ then takes the add for a duplicate and
  writes nothing, and the settle script removes the stand-in before the
  MULTI ends. No other client can see it in between.

  KEYS[1] stored API keys (hash: secret hash -> JSON record)
  KEYS[2] the key's rate window counter
  KEYS[3] idempotency record (hash: fp, alertId, createdAt, response);
          unused without an Idempotency-Key
  KEYS[4] alert record (hash)
  KEYS[5] records not yet queued (sorted set: alert id by creation ms)
  KEYS[6] the job hash BullMQ's add will write (send or approval deadline)

  ARGV[1] the key's secret hash; '' for a key that is not stored (the
          FLASHWIRE_PUBLISH_KEY or the process's own), never revoked
  ARGV[2] the key's stored JSON as this process last read it
  ARGV[3] writes allowed per window
  ARGV[4] window length, ms
  ARGV[5] fingerprint of the canonical JSON body; '' without an
          Idempotency-Key
  ARGV[6] time to keep an Idempotency-Key, ms (24 h)
  ARGV[7] the 202 body to remember for the Idempotency-Key
  ARGV[8] record retention in ms, as in create-alert-2.lua
  ARGV[9] alert id
  ARGV[10] creation time, ms
  ARGV[11...] record field, value, field, value, ...

  Returns
    { 'created' }                      record written: BullMQ's add goes ahead
    { 'revoked' }                      the key is no longer stored (or changed)
    { 'limited', ms until the window resets }
    { 'mismatch' }                     the Idempotency-Key was used with another body
    { 'done', response }               same body, finished: replay the response
    { 'pending', alertId, createdAt }  same body, unfinished: finish that alert
  Everything but 'created' leaves the stand-in and writes no record.
]]
--- @include "count-in-window"
--- @include "write-record"

local function refuse(answer)
  if redis.call('EXISTS', KEYS[6]) == 0 then redis.call('HSET', KEYS[6], 'fwRefused', '1') end
  return answer
end

if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return refuse({ 'revoked' }) end

-- As rate-limit-1.lua: every write counts, whatever comes of it.
local n, ttl = countInWindow(KEYS[2], ARGV[4])
if n > tonumber(ARGV[3]) then return refuse({ 'limited', ttl }) end

-- As idempotency-reserve-1.lua, except that a first use is finished at once.
if ARGV[5] ~= '' then
  local fp = redis.call('HGET', KEYS[3], 'fp')
  if fp then
    if fp ~= ARGV[5] then return refuse({ 'mismatch' }) end
    local response = redis.call('HGET', KEYS[3], 'response')
    if response then return refuse({ 'done', response }) end
    local h = redis.call('HMGET', KEYS[3], 'alertId', 'createdAt')
    return refuse({ 'pending', h[1], h[2] })
  end
  redis.call('HSET', KEYS[3], 'fp', ARGV[5], 'alertId', ARGV[9], 'createdAt', ARGV[10], 'response', ARGV[7])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end

-- As create-alert-2.lua; the id is fresh, so no record can be there yet.
local fields = {}
for i = 11, #ARGV do fields[#fields + 1] = ARGV[i] end
writeRecord(KEYS[4], KEYS[5], fields, ARGV[9], ARGV[10], ARGV[8])
return { 'created' }
