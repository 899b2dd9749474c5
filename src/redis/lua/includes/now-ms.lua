--[[
  Redis's clock in ms: one clock for every process, whatever theirs say.
]]
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
