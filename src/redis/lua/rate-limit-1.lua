--[[
  Count one publish against a key's fixed window, in Redis so every API
  process shares the count.

  KEYS[1] the key's window counter
  ARGV[1] limit per window
  ARGV[2] window length, ms

  Returns { allowed (1|0), count, ms until the window resets }
]]
--- @include "count-in-window"

local n, ttl = countInWindow(KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then return { 0, n, ttl } end
return { 1, n, ttl }
