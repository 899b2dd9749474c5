--[[
  Accept one alert in one step: the key check, the rate limit, the
  Idempotency-Key and the record, so a POST costs one round trip and one
  fsync. It runs in one of two ways (ARGV[11]):

  - '0', for an alert that needs a job (an embargo, an approval deadline):
    first in a MULTI whose next command is BullMQ's own job add and whose
    last is accept-settle-3.lua. Every command of a MULTI runs, so when this
    script refuses it leaves a stand-in at the job's key: BullMQ then takes
    the add for a duplicate and writes nothing, and the settle script
    removes the stand-in before the MULTI ends. No other client can see it
    in between.

  - '1', for an alert that may go at once: alone, and it sends the alert
    itself when the send pipeline is idle (a worker is running, and its
    queue has nothing waiting, prioritized, active or paused). Its event
    then enters the feed in the order the accepts happened, which a worker
    taking jobs concurrently cannot promise, two fsyncs sooner, and no job
    is made. Otherwise it answers 'created' with the record written and no
    202 remembered yet: the caller adds the job and settles (the settle
    script remembers the 202), so a backlog is still worked flash first and
    a deployment whose workers are stopped holds its alerts for them.

  KEYS[1] stored API keys (hash: secret hash -> JSON record)
  KEYS[2] the key's rate window counter
  KEYS[3] idempotency record (hash: fp, alertId, createdAt, response);
          unused without an Idempotency-Key
  KEYS[4] alert record (hash)
  KEYS[5] records not yet queued (sorted set: alert id by creation ms)
  KEYS[6] the job hash BullMQ's add will write (send or approval deadline)
  KEYS[7] the feed (stream)
  KEYS[8] running workers (sorted set: worker id by the ms its claim lapses)
  KEYS[9..13] the queue's BullMQ wait, paused, active and prioritized
          lists and its meta hash

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
  ARGV[11] '1' to run alone and send the alert if the pipeline is idle;
          '0' when a job add follows in the MULTI. With '1':
  ARGV[12] frame members JSON, as append-send-2.lua's ARGV[1]
  ARGV[13] topics, comma separated
  ARGV[14] expiresAt in ms since the epoch, or ''
  ARGV[15] sentAt (ISO-8601)
  ARGV[16] feed max entries (approximate trim)
  ARGV[17] feed retention in ms (approximate trim by age)
  ARGV[18...] record field, value, field, value, ...

  Returns
    { 'created' }                      record written: its job is to be added
    { 'appended', eventId }            record written and its event appended
    { 'expired' }                      record written; past its expiresAt, not sent
    { 'revoked' }                      the key is no longer stored (or changed)
    { 'limited', ms until the window resets }
    { 'mismatch' }                     the Idempotency-Key was used with another body
    { 'done', response }               same body, finished: replay the response
    { 'pending', alertId, createdAt }  same body, unfinished: finish that alert
  With '0', everything but 'created' leaves the stand-in.
]]
--- @include "count-in-window"
--- @include "write-record"
--- @include "append-alert"
--- @include "now-ms"

local alone = ARGV[11] == '1'

local function standIn(answer)
  if not alone and redis.call('EXISTS', KEYS[6]) == 0 then redis.call('HSET', KEYS[6], 'fwRefused', '1') end
  return answer
end

local function pipelineIdle(now)
  if redis.call('ZCOUNT', KEYS[8], '(' .. now, '+inf') == 0 then return false end
  if redis.call('HEXISTS', KEYS[13], 'paused') == 1 then return false end
  return redis.call('LLEN', KEYS[9]) + redis.call('LLEN', KEYS[10]) + redis.call('LLEN', KEYS[11])
    + redis.call('ZCARD', KEYS[12]) == 0
end

if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return standIn({ 'revoked' }) end

-- As rate-limit-1.lua: every write counts, whatever comes of it.
local n, ttl = countInWindow(KEYS[2], ARGV[4])
if n > tonumber(ARGV[3]) then return standIn({ 'limited', ttl }) end

local now = nowMs()
-- Sent (or expired) here, the alert is settled at once: its record is
-- written as such and never waits among the unqueued for the orphan sweep.
local sendNow = alone and pipelineIdle(now)

-- As idempotency-reserve-1.lua, except that a first use is finished at once.
if ARGV[5] ~= '' then
  local fp = redis.call('HGET', KEYS[3], 'fp')
  if fp then
    if fp ~= ARGV[5] then return standIn({ 'mismatch' }) end
    local response = redis.call('HGET', KEYS[3], 'response')
    if response then return standIn({ 'done', response }) end
    local h = redis.call('HMGET', KEYS[3], 'alertId', 'createdAt')
    return standIn({ 'pending', h[1], h[2] })
  end
  -- The 202 is remembered now when the alert is settled here, or in the
  -- MULTI, whose settle script takes it back if the add fails; alone
  -- behind a backlog, the settle script after the add remembers it.
  if sendNow or not alone then
    redis.call('HSET', KEYS[3], 'fp', ARGV[5], 'alertId', ARGV[9], 'createdAt', ARGV[10], 'response', ARGV[7])
  else
    redis.call('HSET', KEYS[3], 'fp', ARGV[5], 'alertId', ARGV[9], 'createdAt', ARGV[10])
  end
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end

-- The record; the id is fresh, so none can be there yet.
local fields = {}
for i = 18, #ARGV do fields[#fields + 1] = ARGV[i] end
if not sendNow then
  -- As create-alert-2.lua.
  writeRecord(KEYS[4], KEYS[5], fields, ARGV[9], ARGV[10], ARGV[8])
  return { 'created' }
end
return appendNewAlert(KEYS[4], KEYS[7], fields, {
  body = ARGV[12], topics = ARGV[13], exp = ARGV[14], sentAt = ARGV[15],
  maxEntries = ARGV[16], retention = ARGV[17], alertId = ARGV[9],
  recordRetention = ARGV[8], now = now,
})
