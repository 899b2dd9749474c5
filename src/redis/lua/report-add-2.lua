--[[
  Add one gateway's counts to an alert's delivery report. The report is
  deleted together with the alert's record: it takes the record's expiry.

  KEYS[1] the alert's delivery report (hash)
  KEYS[2] the alert's record (hash)

  ARGV[1] deliveries to add
  ARGV[2] receipts to add
  ARGV[3] latency field ('' for none)
  ARGV[4] latency ms
  ARGV[5] record retention in ms, used when the record has no expiry
  ARGV[6] reach field ('' for none)
  ARGV[7] reach value: N FIRST LAST

  Returns 1.
]]
if tonumber(ARGV[1]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'deliveries', ARGV[1]) end
if tonumber(ARGV[2]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'receipts', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], ARGV[3], ARGV[4]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], ARGV[6], ARGV[7]) end
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local at = redis.call('PEXPIRETIME', KEYS[2])
if at > 0 then redis.call('PEXPIREAT', KEYS[1], at)
else redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1
