--[[
  Sends an alert: appends its `alert` event to the feed and marks the
  record sent with the event's id, in the caller's atomic step, so a retry
  finds the eventId and appends nothing. An alert past its expiresAt is
  marked expired instead, and nothing is appended.

  Every write that records what happened (the XADD, the mark, the record's
  expiry) runs before the XTRIM, the one step that can still fail
  afterwards: Redis does not roll a script back, so a trim error must never
  leave an appended event unmarked (a retry would append it again).

  appendAlert sends a queued or scheduled record; appendNewAlert writes a
  new record already sent (or expired), in one HSET, for an accept that
  sends at once. Both return { 'appended', eventId } or { 'expired' }.
]]
--- @include "keep-until"

local function xaddAlert(feedKey, a)
  return redis.call('XADD', feedKey, 'MAXLEN', '~', a.maxEntries, '*',
    'type', 'alert', 'alert', a.alertId, 'topics', a.topics, 'exp', a.exp, 'body', a.body)
end

local function trimFeed(feedKey, a)
  redis.call('XTRIM', feedKey, 'MINID', '~', tostring(a.now - tonumber(a.retention)))
end

local function expiredNow(a)
  return a.exp ~= '' and tonumber(a.exp) <= a.now
end

local function appendAlert(recordKey, feedKey, a)
  if expiredNow(a) then
    redis.call('HSET', recordKey, 'status', 'expired')
    redis.call('PEXPIREAT', recordKey, keepUntil(recordKey, a.now, a.recordRetention))
    return { 'expired' }
  end
  local id = xaddAlert(feedKey, a)
  redis.call('HSET', recordKey, 'status', 'sent', 'eventId', id, 'sentAt', a.sentAt)
  redis.call('PEXPIREAT', recordKey, keepUntil(recordKey, a.now, a.recordRetention))
  trimFeed(feedKey, a)
  return { 'appended', id }
end

-- `fields` is the new record (field, value, ...); a later pair in one HSET
-- wins, so the status written after them is the one kept.
local function appendNewAlert(recordKey, feedKey, fields, a)
  local expMs, sendMs
  for i = 1, #fields, 2 do
    if fields[i] == 'expMs' then expMs = fields[i + 1] elseif fields[i] == 'sendMs' then sendMs = fields[i + 1] end
  end
  local out
  if expiredNow(a) then
    out = { 'expired' }
    fields[#fields + 1] = 'status'
    fields[#fields + 1] = 'expired'
  else
    local id = xaddAlert(feedKey, a)
    out = { 'appended', id }
    for _, v in ipairs({ 'status', 'sent', 'eventId', id, 'sentAt', a.sentAt }) do fields[#fields + 1] = v end
  end
  redis.call('HSET', recordKey, unpack(fields))
  redis.call('PEXPIREAT', recordKey, keepFrom(a.now, a.recordRetention, expMs, sendMs))
  if out[2] then trimFeed(feedKey, a) end
  return out
end
