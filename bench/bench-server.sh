#!/usr/bin/env bash
# The prediction server under load: `bert-studio-cli serve` on a randomly
# initialised DistilBERT-base-sized model, driven by wrk at concurrency 1, 4,
# 16 and 64, with a short text (16 tokens) and a review (about 60). Prints
# JSON lines: the machine's load, then per payload and level the requests/s,
# p50/p99 latency and texts per model call, and the throughput ratio 16 : 1
# (the target is 2), then a check that bad requests of every kind, sent while
# wrk runs, get their error statuses and no good request fails.
#
#   bench/bench-server.sh BUILD_DIR [SECONDS_PER_LEVEL]
#
# Needs wrk, curl and python3 (Debian packages). The weights are random:
# the figures are about speed, not about the labels.
set -euo pipefail

build=${1:?usage: bench-server.sh BUILD_DIR [SECONDS_PER_LEVEL]}
seconds=${2:-10}
source_root=$(cd "$(dirname "$0")/.." && pwd)
cli="$build/src/cli/bert-studio-cli"
vocab="$source_root/tests/fixtures/tokenizer/bert-base-uncased-vocab.txt"
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "bench-server: $tool is needed" >&2; exit 2; }
done
[ -x "$cli" ] || { echo "bench-server: no $cli (build first)" >&2; exit 2; }

work=$(mktemp -d -t bench-server-XXXXXX)
server_pid=""
cleanup () {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

load_line () {
  read -r one five fifteen _ < /proc/loadavg
  printf '{"machine": "%s", "cores": %s, "load_1m": %s, "load_5m": %s, "load_15m": %s}\n' \
    "$1" "$(nproc)" "$one" "$five" "$fifteen"
}
load_line "before"

# DistilBERT-base: 6 layers, 768 wide, 12 heads, 3072 feed-forward
LC_ALL=C "$cli" init-model --arch distilbert --hidden 768 --layers 6 --heads 12 --intermediate 3072 \
  --vocab "$vocab" --labels neg,pos --output "$work/model" >/dev/null

# a short timeout, so that the stalled client below is cut off soon
LC_ALL=C "$cli" serve --model "$work/model" --port 0 --timeout 5 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "http://" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
uri=$(grep -o 'http://[^ ]*' "$work/serve.out") || { cat "$work/serve.err" >&2; exit 1; }
host_port=${uri#http://}
host_port=${host_port%/}

# Two payloads: batching pays most where a model call is dominated by
# reading the weights (short texts) and least where the matrix products
# already fill the cores (long ones).
declare -A payloads=(
  [short]='A sharp, funny little film: I loved every minute of it.'
  [review]='I went in expecting very little, but the film surprised me: the two leads are wonderful together, the script is sharp and often funny, and the last half hour is genuinely moving. A little long in the middle, yet I would happily watch it again.'
)
for name in "${!payloads[@]}"; do
  python3 - "${payloads[$name]}" >"$work/$name.lua" <<'EOF'
import json, sys
body = json.dumps({"text": sys.argv[1]})
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/json"')
print("wrk.body = %s" % json.dumps(body))
EOF
done
tokens_of () {
  python3 -c 'import json, sys; print(json.dumps({"text": sys.argv[1]}))' "$1" \
    | "$cli" tokenize --vocab "$vocab" | python3 -c 'import json, sys; print(len(json.loads(sys.stdin.read())))'
}

health_field () {
  curl -s "${uri}health" | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

# wrk's --latency output → one JSON line
run_level () { # payload concurrency
  local name=$1 c=$2 threads=$(( $2 < 2 ? 1 : 2 ))
  local requests0 batches0 requests1 batches1
  requests0=$(health_field requests)
  batches0=$(health_field batches)
  wrk -t"$threads" -c"$c" -d"${seconds}s" --timeout 30s --latency -s "$work/$name.lua" "${uri}predict" \
    >"$work/wrk-$name-$c.txt"
  requests1=$(health_field requests)
  batches1=$(health_field batches)
  python3 - "$work/wrk-$name-$c.txt" "$name" "$(tokens_of "${payloads[$name]}")" "$c" \
    "$((requests1 - requests0))" "$((batches1 - batches0))" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
name, tokens, c, requests, batches = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
def percentile(p):
    m = re.search(r"^\s*%d%%\s+([\d.]+)(us|ms|s)\s*$" % p, text, re.M)
    return round(ms(*m.groups()), 2) if m else None
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print(json.dumps({
    "payload": name,
    "tokens": tokens,
    "concurrency": c,
    "requests_per_s": round(rps, 2),
    "p50_ms": percentile(50),
    "p99_ms": percentile(99),
    "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    "texts_per_batch": round(requests / batches, 2) if batches else None,
}))
EOF
}

for name in short review; do
  : >"$work/levels-$name.jsonl"
  for c in 1 4 16 64; do
    run_level "$name" "$c" | tee -a "$work/levels-$name.jsonl"
  done
  python3 - "$work/levels-$name.jsonl" "$name" <<'EOF'
import json, sys
levels = {r["concurrency"]: r for r in map(json.loads, open(sys.argv[1]))}
ratio = levels[16]["requests_per_s"] / levels[1]["requests_per_s"]
print(json.dumps({"payload": sys.argv[2], "throughput_16_over_1": round(ratio, 2), "target": 2.0,
                  "ok": ratio >= 2.0}))
EOF
done

# Bad requests of each kind while wrk sends good ones.
wrk -t2 -c16 -d"$(( seconds < 8 ? 8 : seconds ))s" --timeout 30s -s "$work/short.lua" "${uri}predict" >"$work/wrk-bad.txt" &
wrk_pid=$!
sleep 1
status_of () { # method path body-file|"" [content-type]
  local args=(-s -o /dev/null -w '%{http_code}' -X "$1")
  [ -n "$3" ] && args+=(-H "Content-Type: ${4:-application/json}" --data-binary "@$3")
  curl "${args[@]}" "${uri}${2#/}"
}
printf 'this is not json' >"$work/not-json"
printf '{"txt": "missing"}' >"$work/missing"
printf '{"text": 42}' >"$work/wrong-type"
printf '{"texts": []}' >"$work/empty-list"
printf '{"texts": [1, 2]}' >"$work/not-strings"
python3 -c 'import json; print(json.dumps({"texts": ["a"] * 257}))' >"$work/too-many"
python3 -c 'import json; print(json.dumps({"text": "word " * 300000}))' >"$work/too-large"
declare -A got expected=(
  [not_json]=400 [missing_text]=422 [wrong_type]=422 [empty_list]=422 [not_strings]=422
  [too_many_texts]=413 [body_too_large]=413 [wrong_method]=405 [unknown_path]=404 [stalled]=408)
got[not_json]=$(status_of POST /predict "$work/not-json")
got[missing_text]=$(status_of POST /predict "$work/missing")
got[wrong_type]=$(status_of POST /predict "$work/wrong-type")
got[empty_list]=$(status_of POST /predict "$work/empty-list")
got[not_strings]=$(status_of POST /predict "$work/not-strings")
got[too_many_texts]=$(status_of POST /predict "$work/too-many")
got[body_too_large]=$(status_of POST /predict "$work/too-large")
got[wrong_method]=$(status_of GET /predict "")
got[unknown_path]=$(status_of GET /nowhere "")
# headers and half a body, then nothing: the server answers 408 after --timeout
got[stalled]=$(python3 - "${host_port%:*}" "${host_port##*:}" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"te")
s.settimeout(30)
answer = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    answer += chunk
print(answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/1.1 ") else "closed")
EOF
)
wait "$wrk_pid"
python3 - "$work/wrk-bad.txt" <<EOF
import json, re
text = open("$work/wrk-bad.txt").read()
got = {$(for k in "${!got[@]}"; do printf '"%s": "%s", ' "$k" "${got[$k]}"; done)}
expected = {$(for k in "${!expected[@]}"; do printf '"%s": "%s", ' "$k" "${expected[$k]}"; done)}
requests = int(re.search(r"(\d+) requests in", text).group(1))
non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
failed = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
bad_ok = all(got[k] == expected[k] for k in expected)
print(json.dumps({"check": "bad_input_under_load", "good_requests": requests, "good_failed": failed,
                  "bad": {k: int(v) if v.isdigit() else v for k, v in sorted(got.items())},
                  "bad_as_expected": bad_ok, "ok": bad_ok and failed == 0}))
EOF
load_line "after"
