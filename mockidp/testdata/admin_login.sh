#!/bin/sh
# admin_login.sh logs a user in at the mock IDP with curl alone, as a test
# written in any language would. It starts `oidcstack mockidp` on a free
# loopback port with the admin API on and registers a client and a user.
# It completes a login through the admin API (no browser), redeems the
# code at the token endpoint and checks the user at the userinfo endpoint.
# Then it makes the next token request fail with an injected fault.
#
# Usage: OIDCSTACK_BIN=/path/to/oidcstack sh mockidp/testdata/admin_login.sh
# It needs curl 7.76 or newer (for --fail-with-body) and a POSIX sh.
# It prints "admin_login.sh: ok" and exits 0 on success; on failure it
# prints what went wrong and the server's log, and exits 1.
set -eu

fail() {
	echo "admin_login.sh: FAIL: $*" >&2
	if [ -s "$work/stderr" ]; then
		echo "--- mockidp log:" >&2
		cat "$work/stderr" >&2
	fi
	exit 1
}

bin=${OIDCSTACK_BIN:-}
[ -n "$bin" ] || { echo "admin_login.sh: set OIDCSTACK_BIN to the oidcstack binary" >&2; exit 2; }
command -v curl >/dev/null 2>&1 || { echo "admin_login.sh: curl is required but not installed" >&2; exit 2; }

work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$bin" mockidp -addr 127.0.0.1:0 -admin -ready-file "$work/ready.json" >"$work/stdout" 2>"$work/stderr" &
pid=$!

# Wait up to 15 seconds for the ready file.
tries=0
while [ ! -s "$work/ready.json" ]; do
	kill -0 "$pid" 2>/dev/null || fail "mockidp exited before it was ready"
	tries=$((tries + 1))
	[ "$tries" -le 150 ] || fail "no ready file after 15 seconds"
	sleep 0.1
done

# json_field NAME prints the string value of NAME in the JSON on stdin.
# The server writes compact JSON, and these values hold no quotes.
json_field() {
	sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"
}

base=$(json_field mockidp <"$work/ready.json")
[ -n "$base" ] || fail "no mockidp URL in $(cat "$work/ready.json")"
issuer="$base/google"
admin="$base/_admin/issuers/google"
redirect_uri="http://127.0.0.1:1/callback"

# admin_post PATH JSON posts JSON to an admin route and prints the response.
admin_post() {
	curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' -d "$2" "$admin$1" ||
		fail "POST $1 failed"
}

# 1. A client and a user for this script.
admin_post /clients '{"client_id":"shell-rp","client_secret":"shell-secret","redirect_uris":["'"$redirect_uri"'"]}' >/dev/null
admin_post /users '{"sub":"shell-user-1","email":"carol@example.com","password":"carol-pw","email_verified":true}' >/dev/null

# 2. The authorization URL, as the relying party under test builds it.
state="state-$$"
auth_url="$issuer/authorize?client_id=shell-rp&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback&response_type=code&scope=openid%20email&state=$state&nonce=nonce-$$"

# 3. Complete the login without a browser.
login=$(admin_post /login '{"authorization_url":"'"$auth_url"'","user":"carol@example.com"}')
code=$(printf '%s' "$login" | json_field code)
[ -n "$code" ] || fail "no code in $login"
[ "$(printf '%s' "$login" | json_field state)" = "$state" ] || fail "state not returned in $login"

# 4. Redeem the code, as the relying party would.
tokens=$(curl -sS --fail-with-body -u shell-rp:shell-secret \
	-d grant_type=authorization_code -d "code=$code" --data-urlencode "redirect_uri=$redirect_uri" \
	"$issuer/token") || fail "token request failed: $tokens"
access_token=$(printf '%s' "$tokens" | json_field access_token)
[ -n "$access_token" ] || fail "no access_token in the token response"
printf '%s' "$tokens" | grep -q '"id_token":"' || fail "no id_token in the token response"

# 5. The userinfo endpoint names the user the admin API logged in.
info=$(curl -sS --fail-with-body -H "Authorization: Bearer $access_token" "$issuer/userinfo") ||
	fail "userinfo failed: $info"
printf '%s' "$info" | grep -q '"sub":"shell-user-1"' || fail "userinfo names another user: $info"

# 6. A fault: the next token request of shell-rp gets invalid_grant.
login=$(admin_post /login '{"authorization_url":"'"$auth_url"'","user":"shell-user-1"}')
code=$(printf '%s' "$login" | json_field code)
curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
	-d '{"name":"token_invalid_grant","client_id":"shell-rp","count":1}' "$admin/faults" ||
	fail "fault injection failed"
status=$(curl -sS -o "$work/fault.json" -w '%{http_code}' -u shell-rp:shell-secret \
	-d grant_type=authorization_code -d "code=$code" --data-urlencode "redirect_uri=$redirect_uri" "$issuer/token")
[ "$status" = 400 ] || fail "faulted token request: status $status, want 400"
grep -q '"error":"invalid_grant"' "$work/fault.json" || fail "faulted token request: $(cat "$work/fault.json")"

# 7. The request log shows what the client sent, with its secret masked.
requests=$(curl -sS --fail-with-body "$base/_admin/requests?issuer=google") || fail "request log failed"
printf '%s' "$requests" | grep -q '"path":"/token"' || fail "no token request in the request log"
if printf '%s' "$requests" | grep -q 'shell-secret'; then
	fail "the request log shows the client secret"
fi

echo "admin_login.sh: ok"
