--[[
  Counts one use against a fixed window that starts with the first use.
  Returns the count, and the ms until the window resets.
]]
local function countInWindow(key, windowMs)
  local n = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, windowMs)
    ttl = tonumber(windowMs)
  end
  return n, ttl
end
