--[[
  Writes a new alert record, enters it in the set of records whose send is
  not yet queued, and sets it to expire as keepUntil says.
]]
--- @include "keep-until"
--- @include "now-ms"

local function writeRecord(recordKey, unqueuedKey, fields, id, createdMs, retentionMs)
  redis.call('HSET', recordKey, unpack(fields))
  redis.call('ZADD', unqueuedKey, createdMs, id)
  redis.call('PEXPIREAT', recordKey, keepUntil(recordKey, nowMs(), retentionMs))
end
