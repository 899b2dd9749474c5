--[[
  Store a new API key under a name that is not yet taken: the name and the
  hashed key are written together, so a crash never leaves a name without
  its key (which could then be neither used nor re-created).

  KEYS[1] key names (hash: name -> secret hash)
  KEYS[2] keys (hash: secret hash -> JSON record)

  ARGV[1] name
  ARGV[2] SHA-256 of the secret, hex
  ARGV[3] JSON record

  Returns 1 when created, 0 when the name is taken.
]]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
