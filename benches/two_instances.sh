#!/usr/bin/env bash
# Two Perezvon instances on one PostgreSQL database behind Debian's nginx, measured with the
# project's own load generator (issue 12's benchmark; figures in BENCHMARKS.md):
#   1. `simulate flood --target <nginx> --rate 1000` in working hours: new calls' first webhook,
#      1 000 requests/s for DURATION seconds, through the proxy to either instance;
#   2. `simulate claims --target <nginx> --operators 16`: sixteen operators claiming at once.
# Needs a release build (cargo build --release), nginx, and PostgreSQL at PG (trust auth).
# Everything runs on 127.0.0.1 in a temporary directory; the database is dropped afterwards.
#
#   benches/two_instances.sh            # DURATION=10 RATE=1000 OPERATORS=16
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-target/release/perezvon}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
DURATION="${DURATION:-10}"
RATE="${RATE:-1000}"
OPERATORS="${OPERATORS:-16}"
HOURS="${HOURS:-in}"          # `off`: nobody seated, every caller leaves a voicemail (the
                              # instances' clock stays in working hours: claims need them)
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
CLOCK="2026-12-07T10:00:00+03:00"   # a Monday, 10:00 Moscow: in working hours

[ -x "$BIN" ] || { echo "no $BIN: run cargo build --release first"; exit 1; }
[ -x "$NGINX" ] || { echo "nginx is missing (apt-get install nginx)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d)
chmod 755 "$dir"
db="bench2_$(date +%s)_$$"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$PG/postgres" -qc "drop database if exists $db" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

psql "$PG/postgres" -qc "create database $db"
proxy=$(free_port); a=$(free_port); b=$(free_port)
cat >"$dir/perezvon.toml" <<EOF
public_url = "http://127.0.0.1:$proxy"
database_url = "$PG/$db"
data_dir = "$dir/var"

[twilio]
account_sid = "AC00000000000000000000000000000000"
auth_token = "bench-auth-token"
api_base = "http://127.0.0.1:9"
from_number = "+74950000000"

[web]
client_ip_header = "X-Real-IP"
# The claims benchmark is a synthetic load: the per-client limit would rightly refuse it.
api_requests_per_minute = 0
api_address_requests_per_minute = 0
EOF

for port in $a $b; do
    PEREZVON_LISTEN="127.0.0.1:$port" PEREZVON_LOG=warn \
        "$BIN" --config "$dir/perezvon.toml" serve --clock-start "$CLOCK" 2>>"$dir/instance-$port.log" &
    pids+=($!)
done

mkdir -p "$dir/tmp" && chmod 777 "$dir/tmp"
cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi; uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
    upstream perezvon { server 127.0.0.1:$a; server 127.0.0.1:$b; keepalive 64; }
    server {
        listen 127.0.0.1:$proxy;
        location / {
            proxy_pass http://perezvon;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_next_upstream error timeout non_idempotent;
        }
    }
}
EOF
"$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
pids+=($!)

for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$a/readyz" >/dev/null && curl -fs "http://127.0.0.1:$b/readyz" >/dev/null \
        && curl -fs "http://127.0.0.1:$proxy/healthz" >/dev/null && break
    sleep 0.2
done
curl -fs "http://127.0.0.1:$proxy/readyz" >/dev/null || { echo "instances not ready"; cat "$dir"/*.log; exit 1; }

echo "== two instances behind nginx: flood at $RATE requests/s, $HOURS hours, ${DURATION} s"
"$BIN" --config "$dir/perezvon.toml" simulate flood --target "http://127.0.0.1:$proxy" \
    --rate "$RATE" --duration "$DURATION" --hours "$HOURS" --baseline false
echo "== two instances behind nginx: $OPERATORS operators claiming at once, ${DURATION} s"
"$BIN" --config "$dir/perezvon.toml" simulate claims --target "http://127.0.0.1:$proxy" \
    --operators "$OPERATORS" --duration "$DURATION" --clock-start "$CLOCK"
