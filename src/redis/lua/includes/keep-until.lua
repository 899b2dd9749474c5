--[[
  When an alert's record may be deleted: `retention` ms after now, or after
  its expiresAt or sendAt (expMs, sendMs) when later. A scheduled alert's
  record must outlive its embargo, and an expiring one its expiry.
]]
local function keepFrom(now, retention, expMs, sendMs)
  local from = now
  for _, v in ipairs({ expMs or false, sendMs or false }) do
    local n = v and tonumber(v)
    if n and n > from then from = n end
  end
  return from + tonumber(retention)
end

-- As keepFrom, for a record already written.
local function keepUntil(key, now, retention)
  local h = redis.call('HMGET', key, 'expMs', 'sendMs')
  return keepFrom(now, retention, h[1], h[2])
end
