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

  Order: every write that records what happened (the XADD, the mark, the
  record's expiry) runs before the XTRIM, the one step that can still fail
  afterwards. Redis does not roll a script back, so a trim error must never
  leave an appended event unmarked (a retry would append it again).

  Returns
    { 'appended', eventId }
    { 'duplicate', eventId }   already in the feed
    { 'missing' }              no such alert
    { 'skipped', status }      retracted, expired or failed before sending
    { 'expired' }              expiresAt passed: marked expired, not sent
    { 'stale' }                corrected since the frame was built; build again
]]
-- Deleted RETENTION ms after now or after the alert's expiry or embargo,
-- whichever is latest: a scheduled alert's record must outlive its embargo.
local function keep(key, nowMs, retention)
  local from = nowMs
  for _, v in ipairs(redis.call('HMGET', key, 'expMs', 'sendMs')) do
    local n = v and tonumber(v)
    if n and n > from then from = n end
  end
  redis.call('PEXPIREAT', key, from + retention)
end

local status = redis.call('HGET', KEYS[1], 'status')
if not status then return { 'missing' } end

local existing = redis.call('HGET', KEYS[1], 'eventId')
if existing then return { 'duplicate', existing } end

if status ~= 'queued' and status ~= 'scheduled' then return { 'skipped', status } end

-- A correction landed between reading the record and this script: sending
-- the old text would lose it (no update event follows an unsent alert).
if ARGV[8] and (redis.call('HGET', KEYS[1], 'rev') or '0') ~= ARGV[8] then return { 'stale' } end

local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] ~= '' and tonumber(ARGV[3]) <= nowMs then
  redis.call('HSET', KEYS[1], 'status', 'expired')
  keep(KEYS[1], nowMs, tonumber(ARGV[9]))
  return { 'expired' }
end

local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*',
  'type', 'alert', 'alert', ARGV[7], 'topics', ARGV[2], 'exp', ARGV[3], 'body', ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'sent', 'eventId', id, 'sentAt', ARGV[4])
keep(KEYS[1], nowMs, tonumber(ARGV[9]))
-- Last: a failing trim leaves the send recorded, and a retry a duplicate.
redis.call('XTRIM', KEYS[2], 'MINID', '~', tostring(nowMs - tonumber(ARGV[6])))
return { 'appended', id }
