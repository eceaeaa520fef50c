#!/usr/bin/env bash
# Fuzzes the contract: schemathesis (pinned in requirements.txt) against the live
# /api-docs/openapi.json of the compiled binary serving the demo county, once with a token of each
# role. Fails on any 5xx and on any response the document does not describe (status code, content
# type, headers, body schema). See docs/reliability.md.
#
#   tests/reliability/contract.sh                 # bounded run (embedded SQLite; CI: PostgreSQL)
#   CONTRACT_MAX_EXAMPLES=100 tests/reliability/contract.sh      # the long run
#   CONTRACT_CHECKS=negative_data_rejection tests/reliability/contract.sh   # other checks
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/contract tests/reliability/contract.sh
#
# Each role is fuzzed twice: with random ids in the paths (every answer to an unknown or malformed
# id), and with the ids of objects the role can see (ids.py), so that bodies and state rules are
# reached past the 404.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MAX_EXAMPLES="${CONTRACT_MAX_EXAMPLES:-10}"
SEED="${CONTRACT_SEED:-20261129}"
CHECKS="${CONTRACT_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$TARGET/reliability"
VENV="$WORK/venv"

# The pinned tools, installed once per requirements file.
mkdir -p "$WORK"
if ! cmp -s tests/reliability/requirements.txt "$VENV/requirements.txt" 2>/dev/null; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/reliability/requirements.txt
    cp tests/reliability/requirements.txt "$VENV/requirements.txt"
fi

# `--workspace`: the features of the workspace's test build, so nothing is compiled twice.
cargo build --quiet --workspace --bin rural-collateral
BINARY="$TARGET/debug/rural-collateral"

RUN=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$RUN"
}
trap cleanup EXIT

# The binary, configured from the environment as a deployment is; a random port; the demo county.
env -i PATH="$PATH" \
    DATABASE_URL="${DATABASE_URL:-sqlite://$RUN/platform.db?mode=rwc}" \
    APP_BIND=127.0.0.1:0 \
    APP_DATA_DIR="$RUN" \
    APP_JWT_SECRET="contract-fuzzing-secret-of-at-least-32-bytes" \
    APP_LOGIN_RATE_PER_ADDRESS=100000 \
    APP_REFRESH_RATE_PER_ADDRESS=100000 \
    APP_METRICS=off \
    "$BINARY" serve --demo >"$RUN/stdout.log" 2>"$RUN/stderr.log" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 600); do
    PORT=$(grep -o '"message":"listening"[^}]*"port":[0-9]*' "$RUN/stderr.log" | grep -o '[0-9]*$' || true)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "FAIL: the server did not start" >&2
    cat "$RUN/stderr.log" >&2
    exit 1
fi
BASE="http://127.0.0.1:$PORT"
until curl -sf "$BASE/health/ready" >/dev/null; do sleep 0.2; done

token() {
    curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"mobile\": \"$1\", \"password\": \"Demo-2026\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# One worker: with two threads, Python 3.11.7's parser trips over Hypothesis's look-ups of
# lambda sources now and then ("AST constructor recursion depth mismatch", CPython gh-106905).
# Sign-out and password changes would end the very session the run fuzzes with; they are tried
# in tests/api/auth.rs instead.
EXCLUDED='^/api/v1/(auth/logout|me/password|users/\{id\}/reset-password)$'
STATUS=0
# Schemathesis and Hypothesis keep their caches in the working directory: under target/.
cd "$WORK"
for who in admin:13800138000 supervisor:13800138001 org_operator:13800138010 \
    bank_officer:13800138020 bank_approver:13800138030; do
    role=${who%%:*}
    mobile=${who#*:}
    TOKEN=$(token "$mobile")
    python3 "$ROOT/tests/reliability/ids.py" "$BASE" "$TOKEN" >"$RUN/real-ids-$role.toml"
    printf '' >"$RUN/random-ids.toml"
    for ids in random-ids real-ids-$role; do
        echo "== schemathesis as $role, ${ids%-$role} ($MAX_EXAMPLES examples per operation)"
        if ! "$VENV/bin/schemathesis" --config-file "$RUN/$ids.toml" run "$BASE/api-docs/openapi.json" \
            --header "Authorization: Bearer $TOKEN" \
            --checks "$CHECKS" \
            --exclude-path-regex "$EXCLUDED" \
            --phases examples,coverage,fuzzing \
            --max-examples "$MAX_EXAMPLES" \
            --seed "$SEED" \
            --workers 1 \
            --request-timeout 10 \
            --no-color \
            --report junit --report-dir "$WORK/contract-$role-${ids%-$role}"; then
            STATUS=1
        fi
    done
done

# An error our own code logged is a defect even when the response looked fine. (actix-http logs
# the requests it cannot parse at ERROR under its own target; those are the fuzzer's garbage.)
if grep -h '"level":"ERROR"' "$RUN/stderr.log" "$RUN/stdout.log" | grep -v '"target":"actix_http::' >"$RUN/errors.log"; then
    echo "== the server logged errors:" >&2
    head -20 "$RUN/errors.log" >&2
    STATUS=1
fi
exit $STATUS
