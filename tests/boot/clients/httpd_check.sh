#!/usr/bin/env bash
# Fetches qemu/www's page, /stats and a missing path from an httpd at HOST:PORT with curl;
# exit 0 only when the page is the demo page, /stats counts TCP segments the kernel received
# (its /proc/net/snmp) and the missing path is a 404.
#   httpd_check.sh HOST PORT
set -euo pipefail
base="http://$1:$2"
for _ in $(seq 50); do curl -sf --max-time 2 -o /dev/null "$base/" && break; sleep 0.2; done
curl -sf --max-time 5 "$base/" | grep "Hello from Pollux"
curl -sf --max-time 5 "$base/stats" | grep -o '"InSegs":[1-9][0-9]*'
code="$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$base/missing")"
echo "GET /missing: $code"
[[ $code == 404 ]]
