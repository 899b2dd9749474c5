--[[
  Writes a new alert record, enters it in the set of records whose send is
  not yet queued, and sets it to expire `retentionMs` after its creation or
  its expiresAt or sendAt, whichever is later.
]]
local function writeRecord(recordKey, unqueuedKey, fields, id, createdMs, retentionMs)
  redis.call('HSET', recordKey, unpack(fields))
  redis.call('ZADD', unqueuedKey, createdMs, id)
  local t = redis.call('TIME')
  local from = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  for _, v in ipairs(redis.call('HMGET', recordKey, 'expMs', 'sendMs')) do
    local x = v and tonumber(v)
    if x and x > from then from = x end
  end
  redis.call('PEXPIREAT', recordKey, from + tonumber(retentionMs))
end
