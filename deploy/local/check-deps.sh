#!/usr/bin/env bash
# Checks that PostgreSQL and Redis accept connections on their local ports
# and prints how to start whichever does not.
set -u

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

missing=0
if ! answers 5432; then
	echo "PostgreSQL is not accepting connections on 127.0.0.1:5432. Start it with:" >&2
	echo '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' >&2
	missing=1
fi
if ! answers 6379; then
	echo "Redis is not accepting connections on 127.0.0.1:6379. Start it with:" >&2
	echo '  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no' >&2
	missing=1
fi
exit "$missing"
