#!/usr/bin/env bash
# Starts and stops a local predastore cluster on loopback: N storage-node processes and one S3 gateway.
#
#   perf/cluster.sh up N K M DIR   N nodes, RS(K,M), data under DIR; prints "endpoint http://127.0.0.1:PORT"
#                                  and one "node ID PID" line per node
#   perf/cluster.sh down DIR       stops the gateway and the nodes started by "up" (SIGTERM, then SIGKILL)
#
# Credentials come from PREDASTORE_ACCESS_KEY / PREDASTORE_SECRET_KEY. DIR/cluster.json is the cluster file
# (nodes, erasure code, transport, secret); running "up" again on the same DIR reuses it, so the nodes come
# back on the same ports with the data they had.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { echo "usage: $0 up N K M DIR | $0 down DIR" >&2; exit 64; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for_line() { # file pattern seconds pid
  local file="$1" pattern="$2" deadline=$((SECONDS + $3)) pid="$4"
  until grep -q "$pattern" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "process $pid exited; see $file:" >&2; cat "$file" >&2; return 1; fi
    if (( SECONDS > deadline )); then echo "timed out waiting for '$pattern' in $file" >&2; return 1; fi
    sleep 0.1
  done
}

stop_pid() { # pidfile
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd="${1:-}"
case "$cmd" in
  up)
    [[ $# -eq 5 ]] || usage
    N="$2"; K="$3"; M="$4"; DIR="$5"
    [[ "$N" =~ ^[1-9][0-9]*$ && "$K" =~ ^[1-9][0-9]*$ && "$M" =~ ^[0-9]+$ ]] || usage
    : "${PREDASTORE_ACCESS_KEY:?set PREDASTORE_ACCESS_KEY (and PREDASTORE_SECRET_KEY) for the gateway}"
    : "${PREDASTORE_SECRET_KEY:?set PREDASTORE_SECRET_KEY for the gateway}"
    mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"
    [[ -f "$DIR/gateway.pid" ]] && kill -0 "$(cat "$DIR/gateway.pid")" 2>/dev/null && { echo "a cluster is already running in $DIR" >&2; exit 1; }

    dotnet build "$ROOT/src/Server" -c Release --nologo -v quiet -o "$DIR/bin" >"$DIR/build.log" 2>&1 || { cat "$DIR/build.log" >&2; exit 1; }
    EXE=(dotnet "$DIR/bin/predastore.dll")

    if [[ ! -f "$DIR/cluster.json" ]]; then
      secret="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
      {
        echo '{'
        echo '  "nodes": ['
        for i in $(seq 1 "$N"); do
          sep=','; [[ $i -eq $N ]] && sep=''
          echo "    { \"id\": $i, \"address\": \"127.0.0.1:$(free_port)\", \"weight\": 1 }$sep"
        done
        echo '  ],'
        echo "  \"dataShards\": $K,"
        echo "  \"parityShards\": $M,"
        echo '  "blockSize": 1048576,'
        echo '  "transport": "tcp",'
        echo "  \"secret\": \"$secret\","
        echo '  "gateway": { "address": "127.0.0.1", "port": '"$(free_port)"' }'
        echo '}'
      } >"$DIR/cluster.json"
      chmod 600 "$DIR/cluster.json"
    fi

    for i in $(seq 1 "$N"); do
      addr="$(grep -o "\"id\": $i, \"address\": \"[^\"]*\"" "$DIR/cluster.json" | sed 's/.*"address": "\(.*\)"/\1/')"
      [[ -n "$addr" ]] || { echo "node $i is not in $DIR/cluster.json" >&2; exit 1; }
      nohup "${EXE[@]}" node --id "$i" --data "$DIR/node-$i" --listen "$addr" --cluster "$DIR/cluster.json" --log-level Warning \
        >"$DIR/node-$i.log" 2>&1 </dev/null &
      echo $! >"$DIR/node-$i.pid"
    done
    for i in $(seq 1 "$N"); do wait_for_line "$DIR/node-$i.log" "listening on" 60 "$(cat "$DIR/node-$i.pid")"; done

    nohup "${EXE[@]}" gateway --cluster "$DIR/cluster.json" --data "$DIR/gateway" --log-level Warning \
      >"$DIR/gateway.log" 2>&1 </dev/null &
    echo $! >"$DIR/gateway.pid"
    wait_for_line "$DIR/gateway.log" "serving S3 at" 60 "$(cat "$DIR/gateway.pid")"

    endpoint="$(grep -o 'serving S3 at [^ ]*' "$DIR/gateway.log" | head -1 | sed 's/serving S3 at //; s:/$::')"
    echo "endpoint $endpoint"
    for i in $(seq 1 "$N"); do echo "node $i $(cat "$DIR/node-$i.pid")"; done
    ;;
  down)
    [[ $# -eq 2 ]] || usage
    DIR="$2"
    [[ -d "$DIR" ]] || { echo "no cluster directory $DIR" >&2; exit 1; }
    stop_pid "$DIR/gateway.pid"
    for pidfile in "$DIR"/node-*.pid; do [[ -e "$pidfile" ]] && stop_pid "$pidfile"; done
    echo "stopped"
    ;;
  *) usage ;;
esac
