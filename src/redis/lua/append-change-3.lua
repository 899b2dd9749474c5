--[[
  Apply a correction or retraction to an alert and, when the alert was
  already sent, append its `update` or `retract` event to the feed: the
  status check, the XADD and the record change are one atomic step, so each
  change enters the feed once and only once, after the alert's own event.

  Run only by the feed's FeedScripts class, which builds these
  ARGV, maps the replies, and owns the entry's fields (type, alert, topics,
  exp, body) and the frame members' text.

  The caller built the event and the new fields from the record as it read
  it (status ARGV[1], revision ARGV[2]). If either moved meanwhile (a send,
  another correction), nothing happens and the caller reads again.

  Order: the XADD, the record change and the keys' expiry all run before the
  XTRIM, the one step that can still fail afterwards. Redis does not roll a
  script back, so a trim error never leaves an appended event unrecorded.

  KEYS[1] alert record (hash)
  KEYS[2] feed (stream)
  KEYS[3] the alert's delivery report (hash; its expiry follows the record)

  ARGV[1] expected status
  ARGV[2] expected revision ('0' when the record has none)
  ARGV[3] event type: 'update', 'retract', or '' to change the record only
  ARGV[4] frame members JSON (everything after type and eventId)
  ARGV[5] topics, comma separated
  ARGV[6] expiresAt in ms since the epoch, or ''
  ARGV[7] feed max entries (approximate trim)
  ARGV[8] feed retention in ms (approximate trim by age)
  ARGV[9] alert id
  ARGV[10] record retention in ms: record and report are deleted this long
           after the alert's last change or its expiresAt, whichever is later
  ARGV[11...] field, value pairs to set on the record

  Returns
    { 'appended', eventId }  event appended, record changed
    { 'changed' }            record changed, no event (not sent yet)
    { 'missing' }            no such alert
    { 'expired' }            expiresAt passed: marked expired, nothing changed
    { 'stale', status }      status or revision moved; read again
]]
--- @include "keep-until"
--- @include "now-ms"

local status = redis.call('HGET', KEYS[1], 'status')
if not status then return { 'missing' } end

local now = nowMs()
local retention = tonumber(ARGV[10])
local live = status == 'sent' or status == 'queued' or status == 'scheduled' or status == 'pending_approval'
if live and ARGV[6] ~= '' and tonumber(ARGV[6]) <= now then
  redis.call('HSET', KEYS[1], 'status', 'expired')
  local at = keepUntil(KEYS[1], now, retention)
  redis.call('PEXPIREAT', KEYS[1], at)
  redis.call('PEXPIREAT', KEYS[3], at)
  return { 'expired' }
end

local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if status ~= ARGV[1] or rev ~= ARGV[2] then return { 'stale', status } end

local fields = {}
for i = 11, #ARGV do fields[#fields + 1] = ARGV[i] end

local id = nil
if ARGV[3] ~= '' then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*',
    'type', ARGV[3], 'alert', ARGV[9], 'topics', ARGV[5], 'exp', ARGV[6], 'body', ARGV[4])
end
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
redis.call('HINCRBY', KEYS[1], 'rev', 1)
local at = keepUntil(KEYS[1], now, retention)
redis.call('PEXPIREAT', KEYS[1], at)
redis.call('PEXPIREAT', KEYS[3], at)
-- Last: a failing trim leaves the change recorded, and a retry 'stale'.
if id then
  redis.call('XTRIM', KEYS[2], 'MINID', '~', tostring(now - tonumber(ARGV[8])))
  return { 'appended', id }
end
return { 'changed' }
