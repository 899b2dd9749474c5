--[[
  Settle one record that has been waiting too long for its send to be
  queued. Its API process wrote it and died before queuing the job, so no
  202 was given: unless the job is there after all, the record is marked
  failed rather than left `queued` for ever.

  KEYS[1] records not yet queued (sorted set)
  KEYS[2] alert record (hash)
  KEYS[3] the alert's send job (BullMQ job hash)

  ARGV[1] alert id
  ARGV[2] reason (kept in the audit trail)
  ARGV[3] time, ISO-8601
  ARGV[4] record retention in ms

  Returns 'failed' when marked, else 'queued' (the job exists), 'settled'
  (no longer waiting) or 'gone' (no record); each takes it out of the set.
]]
redis.call('ZREM', KEYS[1], ARGV[1])
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return 'gone' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'queued' end
if (status ~= 'queued' and status ~= 'scheduled') or redis.call('HEXISTS', KEYS[2], 'eventId') == 1 then return 'settled' end
local audit = cjson.decode(redis.call('HGET', KEYS[2], 'audit') or '[]')
audit[#audit + 1] = { action = 'failed', by = 'flashwire', at = ARGV[3], reason = ARGV[2] }
redis.call('HSET', KEYS[2], 'status', 'failed', 'audit', cjson.encode(audit))
redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 'failed'
