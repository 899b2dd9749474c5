--[[
  When an alert's record may be deleted: `retention` ms after now, or after
  its expiresAt or sendAt (expMs, sendMs) when later. A scheduled alert's
  record must outlive its embargo, and an expiring one its expiry.
]]
local function keepUntil(key, now, retention)
  local from = now
  for _, v in ipairs(redis.call('HMGET', key, 'expMs', 'sendMs')) do
    local n = v and tonumber(v)
    if n and n > from then from = n end
  end
  return from + tonumber(retention)
end
