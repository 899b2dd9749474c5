--[[
  Append an alert's send to the feed, exactly once.

  Run only by the feed's FeedScripts class, which builds these
  ARGV, maps the replies, and owns the entry's fields (type, alert, topics,
  exp, body) and the frame members' text.

  The XADD and the mark that it happened are one atomic step, keyed by the
  alert: a retried job, or one whose worker died after this ran, finds the
  eventId already set and appends nothing.

  KEYS[1] alert record (hash)
  KEYS[2] feed (stream)

  ARGV[1] frame members JSON (everything after type and eventId)
  ARGV[2] topics, comma separated
  ARGV[3] expiresAt in ms since the epoch, or ''
  ARGV[4] sentAt (ISO-8601), recorded on the alert
  ARGV[5] feed max entries (approximate trim)
  ARGV[6] feed retention in ms (approximate trim by age)
  ARGV[7] alert id
  ARGV[8] the record's revision the frame was built from ('0' when none)
  ARGV[9] record retention in ms: the record is deleted this long after
          its last change or its expiresAt, whichever is later

  The append itself is includes/append-alert.lua, shared with the accept
  script's direct send.

  Returns
    { 'appended', eventId }
    { 'duplicate', eventId }   already in the feed
    { 'missing' }              no such alert
    { 'skipped', status }      retracted, expired or failed before sending
    { 'expired' }              expiresAt passed: marked expired, not sent
    { 'stale' }                corrected since the frame was built; build again
]]
--- @include "append-alert"
--- @include "now-ms"

local status = redis.call('HGET', KEYS[1], 'status')
if not status then return { 'missing' } end

local existing = redis.call('HGET', KEYS[1], 'eventId')
if existing then return { 'duplicate', existing } end

if status ~= 'queued' and status ~= 'scheduled' then return { 'skipped', status } end

-- A correction landed between reading the record and this script: sending
-- the old text would lose it (no update event follows an unsent alert).
if ARGV[8] and (redis.call('HGET', KEYS[1], 'rev') or '0') ~= ARGV[8] then return { 'stale' } end

return appendAlert(KEYS[1], KEYS[2], {
  body = ARGV[1], topics = ARGV[2], exp = ARGV[3], sentAt = ARGV[4],
  maxEntries = ARGV[5], retention = ARGV[6], alertId = ARGV[7],
  recordRetention = ARGV[9], now = nowMs(),
})
