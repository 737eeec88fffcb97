-- Deletes KEYS[1] only when it still holds ARGV[1], the token of the
-- holder releasing it, so that a holder whose lock expired and was taken
-- by another cannot release the new holder's lock. Returns 1 when
-- deleted, 0 otherwise.
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
