--[[
  The last command of an accept MULTI (see accept-alert-13.lua), after
  BullMQ's job add: removes the stand-in a refusal left at the job's key,
  or, when the job is there, takes the alert out of the records the orphan
  sweep watches and, when asked, remembers the 202 for the Idempotency-Key.

  If the add failed there is a record and no job, as when an API process
  died between the two: the record stays for the orphan sweep, and the
  Idempotency-Key forgets the 202 it was to replay, so a retry finishes
  the alert (as an unfinished reservation) instead of being told it is
  accepted.

  KEYS[1] the job hash (send or approval deadline)
  KEYS[2] records not yet queued (sorted set)
  KEYS[3] idempotency record (hash); unused without an Idempotency-Key
  ARGV[1] alert id
  ARGV[2] '1' with an Idempotency-Key, else '0'
  ARGV[3] the 202 to remember once the job is there; '' when the accept
          script remembered it already

  Returns 'refused' (stand-in removed), 'queued' (job there) or 'missing'.
]]
if redis.call('HEXISTS', KEYS[1], 'fwRefused') == 1 then
  redis.call('DEL', KEYS[1])
  return 'refused'
end
local mine = ARGV[2] == '1' and redis.call('HGET', KEYS[3], 'alertId') == ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  if mine and ARGV[3] ~= '' then redis.call('HSET', KEYS[3], 'response', ARGV[3]) end
  return 'queued'
end
if mine then redis.call('HDEL', KEYS[3], 'response') end
return 'missing'
