--[[
  Mark an alert failed: only one that was never sent. A `sent`, `retracted`
  or `expired` alert keeps its status, whatever failed afterwards.

  KEYS[1] alert record (hash)

  ARGV[1] reason (kept in the audit trail)
  ARGV[2] time, ISO-8601
  ARGV[3] record retention in ms (deleted this long after this change)

  Returns
    { 'failed' }          marked failed
    { 'kept', status }    not queued or scheduled: left as it was
    { 'missing' }         no such alert
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return { 'missing' } end
if (status ~= 'queued' and status ~= 'scheduled') or redis.call('HEXISTS', KEYS[1], 'eventId') == 1 then
  return { 'kept', status }
end
local audit = cjson.decode(redis.call('HGET', KEYS[1], 'audit') or '[]')
audit[#audit + 1] = { action = 'failed', by = 'flashwire', at = ARGV[2], reason = ARGV[1] }
redis.call('HSET', KEYS[1], 'status', 'failed', 'audit', cjson.encode(audit))
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return { 'failed' }
