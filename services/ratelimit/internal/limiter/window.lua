-- Sliding-window rate limit over several tiers at once; the Go doc
-- comment on limiter.script describes KEYS, ARGV and the reply.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hits = tonumber(ARGV[1])
local dry = tonumber(ARGV[2]) == 1
local n = #KEYS - 1
local counts = {}
local denied = false
for i = 1, n do
  local limit, window = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  counts[i] = redis.call('ZCARD', KEYS[i])
  if counts[i] + hits > limit then denied = true end
end
local seq = 0
if not denied and not dry then seq = redis.call('INCR', KEYS[n + 1]) end
local result = {now, denied and 1 or 0}
for i = 1, n do
  local limit, window = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])
  local count = counts[i]
  if not denied and not dry then
    for h = 1, hits do
      redis.call('ZADD', KEYS[i], now, string.format('%d-%d-%d', now, seq, h))
    end
    redis.call('PEXPIRE', KEYS[i], math.ceil(window / 1000))
    count = count + hits
  end
  local reset = 0
  local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if oldest[2] then reset = tonumber(oldest[2]) + window - now end
  local retry = 0
  if counts[i] + hits > limit then
    if hits > limit then
      retry = -1
    else
      local e = redis.call('ZRANGE', KEYS[i], counts[i] + hits - limit - 1, counts[i] + hits - limit - 1, 'WITHSCORES')
      if e[2] then retry = tonumber(e[2]) + window - now end
    end
  end
  result[#result + 1] = count
  result[#result + 1] = reset
  result[#result + 1] = retry
end
return result
