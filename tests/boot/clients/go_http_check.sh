#!/usr/bin/env bash
# Checks the Go server of apps/go_http at HOST:PORT with curl, the same way on Linux and in the
# unikernel, then tells it to exit with status 7 (the harness checks that status):
# - GET / is the fixed body, byte for byte;
# - 64 KiB of random bytes POSTed to /echo come back intact, and 16 of them at once (one
#   goroutine and one connection each);
# - GET /spin?ms=1000 busy-loops a goroutine with one P: it can only finish if the runtime
#   preempts the loop asynchronously (SIGURG through tgkill), and GET /ticks must be answered
#   while the loop runs (it says so: "spinning 1"); the ticker goroutine has counted, and the
#   program has seen SIGURG;
# - GET /gc: 8 MiB filled, checked and given back to the kernel four times;
# - GET /exit?code=7 answers "bye".
#   go_http_check.sh HOST PORT
set -euo pipefail
base="http://$1:$2"
tmp="$(mktemp -d)"
spin_pid=""
trap '[[ -z $spin_pid ]] || kill "$spin_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

for _ in $(seq 50); do curl -sf --max-time 2 -o /dev/null "$base/" && break; sleep 0.2; done
printf 'hello from a static Go program\n' >"$tmp/body"
curl -sf --max-time 10 -o "$tmp/got" "$base/"
cmp "$tmp/body" "$tmp/got"
echo "GET /: $(cat "$tmp/got")"

head -c 65536 /dev/urandom >"$tmp/payload"
curl -sf --max-time 30 --data-binary @"$tmp/payload" -o "$tmp/echoed" "$base/echo"
cmp "$tmp/payload" "$tmp/echoed"
echo "POST /echo: 65536 bytes back intact"
seq 16 | xargs -P 16 -I{} curl -sf --max-time 60 --data-binary @"$tmp/payload" -o "$tmp/echoed{}" "$base/echo"
for i in $(seq 16); do cmp "$tmp/payload" "$tmp/echoed$i"; done
echo "POST /echo: 16 at once, each 65536 bytes back intact"

curl -sf --max-time 30 -o "$tmp/spin" "$base/spin?ms=1000" &
spin_pid=$!
# Until the spin has begun (curl and the request take their time on a loaded machine).
for _ in $(seq 20); do
    sleep 0.1
    curl -sf --max-time 5 -o "$tmp/ticks" "$base/ticks"
    grep -q 'spinning 1$' "$tmp/ticks" && break
    if ! kill -0 "$spin_pid" 2>/dev/null; then
        echo "GET /ticks was never answered while the spin ran: $(cat "$tmp/ticks")"
        exit 1
    fi
done
echo "GET /ticks during the spin: $(cat "$tmp/ticks")"
grep -qE '^ticks [1-9][0-9]*, spinning 1$' "$tmp/ticks"
wait "$spin_pid"
spin_pid=""
echo "GET /spin: $(cat "$tmp/spin")"
grep -qE '^spun [0-9]{4,} ms \([01]\), SIGURG seen [1-9][0-9]* times$' "$tmp/spin"

curl -sf --max-time 60 -o "$tmp/gc" "$base/gc"
echo "GET /gc: $(cat "$tmp/gc")"
grep -qE '^gc ok: [0-9]+ collections, [0-9]+ MiB released to the OS$' "$tmp/gc"

curl -sf --max-time 10 -o "$tmp/bye" "$base/exit?code=7"
echo "GET /exit?code=7: $(cat "$tmp/bye")"
grep -qx bye "$tmp/bye"
