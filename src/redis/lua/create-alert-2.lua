--[[
  Create an alert record unless one exists with its id.

  An idempotent retry re-uses the id its first attempt reserved; if that
  attempt got as far as writing the record, the retry must leave it be.

  The new record also enters the set of records whose send is not yet
  queued: the API takes it out once the job is in the queue, and the
  worker's sweep marks a record left there past the grace period (its API
  process died before queuing it, so no 202 was given) as failed.

  KEYS[1] alert record (hash)
  KEYS[2] records not yet queued (sorted set: alert id by creation ms)

  ARGV[1] record retention in ms: deleted this long after its last change
          or its expiresAt or sendAt, whichever is later
  ARGV[2] alert id
  ARGV[3] creation time, ms
  ARGV[4...] field, value, field, value, ...

  Returns 1 when written, 0 when the record already existed.
]]
--- @include "write-record"

if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
writeRecord(KEYS[1], KEYS[2], fields, ARGV[2], ARGV[3], ARGV[1])
return 1
