--[[
  Take, keep or give up the Web Push sender's lease: one worker sends at a
  time, so no event is pushed twice to one subscription; a dead holder's
  lease runs out and another worker carries on from the cursor.

  KEYS[1] lease (string: the holder's token)

  ARGV[1] token of the caller
  ARGV[2] lease length in ms, or '0' to give it up

  Returns
    1  the caller holds the lease (taken or extended), or gave it up
    0  another worker holds it
]]
local holder = redis.call('GET', KEYS[1])
if ARGV[2] == '0' then
  if holder == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
