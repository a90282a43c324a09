#!/bin/sh
# Load the gateway with wrk on loopback and compare it with a bare
# httputil.ReverseProxy to the same upstream: cache hit against the bare
# proxy, cache miss against hit, push mode against pull. Each round runs
# every target once, alternating, and the report takes the median of
# ROUNDS rounds. Used by `make bench`; never run in CI.
#
# Settings (environment): DURATION of each wrk run (default 5s), CONNS
# open connections (32), THREADS wrk threads (2), ROUNDS (3).
set -eu

DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
GO=${GO:-go}

if ! command -v wrk >/dev/null 2>&1; then
	echo "bench/wrk.sh: wrk not found; install it (Debian: apt-get install -y wrk)" >&2
	exit 1
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$GO" build -o "$tmp/gatewaybench" ./bench/gatewaybench
"$tmp/gatewaybench" -ready-file "$tmp/ready" -tokens-file "$tmp/tokens" -lifetime 15m 2>"$tmp/server.log" &
pid=$!

# Wait up to 30 s for the servers and the token.
i=0
while [ ! -s "$tmp/ready" ]; do
	i=$((i + 1))
	if [ "$i" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "bench/wrk.sh: benchmark servers did not start:" >&2
		cat "$tmp/server.log" >&2
		exit 1
	fi
	sleep 0.1
done
. "$tmp/ready"

# load URL [many]: one wrk run with one token, or with "many" a different
# token on each request; prints requests per second. A run with any
# non-2xx response or socket error fails the script.
load() {
	if [ "${2:-}" = many ]; then
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s bench/tokens.lua "$1" -- "$tmp/tokens")
	else
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -H "Authorization: Bearer $TOKEN" "$1")
	fi
	if echo "$out" | grep -q -e "Non-2xx" -e "Socket errors"; then
		echo "bench/wrk.sh: errors while loading $1:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "$out" | awk '/^Requests\/sec:/ { print $2 }'
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Warm up every target once: connections, the gateways' lazy discovery
# and JWKS fetch, and the hit gateway's cache.
for url in "$BARE_URL" "$HIT_URL" "$PUSH_URL"; do
	DURATION=1s load "$url" >/dev/null
done
DURATION=1s load "$MISS_URL" many >/dev/null

bare="" hit="" miss="" push=""
r=1
while [ "$r" -le "$ROUNDS" ]; do
	bare="$bare $(load "$BARE_URL")"
	hit="$hit $(load "$HIT_URL")"
	miss="$miss $(load "$MISS_URL" many)"
	push="$push $(load "$PUSH_URL")"
	echo "round $r: bare$bare | hit$hit | miss$miss | push$push" >&2
	r=$((r + 1))
done

m_bare=$(echo "$bare" | median)
m_hit=$(echo "$hit" | median)
m_miss=$(echo "$miss" | median)
m_push=$(echo "$push" | median)

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
cat <<REPORT

Machine: $(nproc) CPUs, $cpu; $("$GO" version)
Command: wrk -t$THREADS -c$CONNS -d$DURATION -H 'Authorization: Bearer <token>' URL (cache miss: -s bench/tokens.lua, $(wc -l < "$tmp/tokens") tokens in turn), $ROUNDS alternating rounds, median

| target | requests/s (median) | runs |
| --- | ---: | --- |
| bare httputil.ReverseProxy | $m_bare |$bare |
| gateway, pull mode, cache hit | $m_hit |$hit |
| gateway, pull mode, cache miss (cache off, a new token per request) | $m_miss |$miss |
| gateway, push mode | $m_push |$push |

| ratio | value |
| --- | ---: |
| cache hit / bare proxy (goal >= 0.9) | $(ratio "$m_hit" "$m_bare") |
| cache miss / cache hit | $(ratio "$m_miss" "$m_hit") |
| push / pull (cache hit) | $(ratio "$m_push" "$m_hit") |
REPORT
