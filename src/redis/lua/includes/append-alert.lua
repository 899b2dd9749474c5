--[[
  Sends a queued or scheduled alert: appends its `alert` event to the feed
  and marks the record sent with the event's id, in the caller's atomic
  step, so a retry finds the eventId and appends nothing. An alert past its
  expiresAt is marked expired instead, and nothing is appended.

  Every write that records what happened (the XADD, the mark, the record's
  expiry) runs before the XTRIM, the one step that can still fail
  afterwards: Redis does not roll a script back, so a trim error must never
  leave an appended event unmarked (a retry would append it again).

  Returns { 'appended', eventId } or { 'expired' }.
]]
--- @include "keep-until"

local function appendAlert(recordKey, feedKey, a)
  if a.exp ~= '' and tonumber(a.exp) <= a.now then
    redis.call('HSET', recordKey, 'status', 'expired')
    redis.call('PEXPIREAT', recordKey, keepUntil(recordKey, a.now, a.recordRetention))
    return { 'expired' }
  end
  local id = redis.call('XADD', feedKey, 'MAXLEN', '~', a.maxEntries, '*',
    'type', 'alert', 'alert', a.alertId, 'topics', a.topics, 'exp', a.exp, 'body', a.body)
  redis.call('HSET', recordKey, 'status', 'sent', 'eventId', id, 'sentAt', a.sentAt)
  redis.call('PEXPIREAT', recordKey, keepUntil(recordKey, a.now, a.recordRetention))
  redis.call('XTRIM', feedKey, 'MINID', '~', tostring(a.now - tonumber(a.retention)))
  return { 'appended', id }
end
