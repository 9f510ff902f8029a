#!/usr/bin/env bash
# The "Throughput" table of perf/README.md: PUT and GET MB/s of `predastore serve` at 1, 4 and 16 clients for 1 MiB
# and 64 MiB objects (perf/Predastore.LoadDriver), and beside them, in the same run on the same machine, the
# machine's limits: nginx (Debian nginx-light) serving the same sizes from disk for GET, nginx's dav module writing
# them to disk for PUT (same client, unsigned), and fio's sequential writes to the same disk. Loopback only.
#
#   perf/throughput.sh [SECONDS_PER_CELL]     (default 10; 48 load-driver runs and 6 fio runs, about 6 minutes)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
port=19400
nginx_port=19401
root=$(mktemp -d /tmp/predastore-throughput.XXXXXX)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export PREDASTORE_ACCESS_KEY=throughput PREDASTORE_SECRET_KEY=throughput-secret-key

need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v fio >/dev/null || need+=(fio)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

dotnet build src/Server -c Release -nologo -clp:ErrorsOnly -v q >/dev/null || { echo "server build failed"; exit 1; }
dotnet build perf/Predastore.LoadDriver -c Release -nologo -clp:ErrorsOnly -v q >/dev/null || { echo "load driver build failed"; exit 1; }
load=perf/Predastore.LoadDriver/bin/Release/net10.0/Predastore.LoadDriver.dll

server_pid=; nginx_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  rm -rf "$root"
}
trap cleanup EXIT

# predastore serve, data on the same disk as nginx's files and fio's.
dotnet src/Server/bin/Release/net10.0/predastore.dll serve --port $port --data "$root/predastore" --log-level Warning \
  >"$root/serve.log" 2>&1 &
server_pid=$!

# nginx: GET from disk; PUT/DELETE through dav (temp file + rename), both under $root/www.
mkdir -p "$root/www/bench" "$root/nginx-tmp"
cat >"$root/nginx.conf" <<NGINX
daemon off;
user root;
worker_processes 2;
pid $root/nginx.pid;
error_log $root/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_max_body_size 0;
  client_body_temp_path $root/nginx-tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    root $root/www;
    location / { dav_methods PUT DELETE; create_full_put_path on; }
  }
}
NGINX
nginx -c "$root/nginx.conf" &
nginx_pid=$!

for _ in $(seq 60); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break
  sleep 1
done

# cell TARGET WORKLOAD SIZE CLIENTS: one load-driver run; prints MB/s (or "err").
cell() {
  local target=$1 workload=$2 size=$3 clients=$4 json="$root/r.json"
  local args=(--workload "$workload" --size "$size" --clients "$clients" --duration "${seconds}s" --plain
              --objects $((clients * 2)) --json "$json" --html "$root/r.html")
  if [ "$target" = predastore ]; then
    args+=(--endpoint "http://127.0.0.1:$port")
  else
    args+=(--endpoint "http://127.0.0.1:$nginx_port" --anonymous --bucket bench --bucket-exists)
  fi
  if dotnet "$load" "${args[@]}" >"$root/cell.log" 2>&1; then
    python3 -c "import json,sys; r=json.load(open('$json')); print(f\"{r['megabytesPerSecond']:.0f}\")"
  else
    tail -n 3 "$root/cell.log" >&2
    echo err
  fi
}

# fio: sequential buffered writes of SIZE blocks by CLIENTS jobs, fsync at the end of each file (the WAL syncs too).
fio_write() {
  local size=$1 clients=$2
  fio --name=w --directory="$root" --rw=write --bs=1M --size=$((512 / clients + 64))M --numjobs="$clients" \
      --ioengine=psync --end_fsync=1 --group_reporting --output-format=json 2>/dev/null \
    | python3 -c "import json,sys; j=json.load(sys.stdin)['jobs'][0]['write']; print(f\"{j['bw_bytes']/1e6:.0f}\")"
  rm -f "$root"/w.*
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "Machine: $(nproc) cores, $cpu, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), .NET SDK $(dotnet --version)."
echo "Date: $(date -u +%Y-%m-%d), commit $commit, load average at start $(cut -d' ' -f1-3 /proc/loadavg), ${seconds} s per cell."
echo
echo "| object | clients | predastore PUT | nginx dav PUT | fio write | PUT ÷ fio | predastore GET | nginx GET | GET ÷ nginx |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for size in 1MiB 64MiB; do
  for clients in 1 4 16; do
    put=$(cell predastore put $size $clients)
    get=$(cell predastore get $size $clients)
    nput=$(cell nginx put $size $clients)
    nget=$(cell nginx get $size $clients)
    fw=$(fio_write $size $clients)
    ratio() { python3 -c "a,b='$1','$2'; print(f'{float(a)/float(b):.2f}' if a.replace('.','').isdigit() and b.replace('.','').isdigit() and float(b)>0 else '-')"; }
    echo "| $size | $clients | $put | $nput | $fw | $(ratio "$put" "$fw") | $get | $nget | $(ratio "$get" "$nget") |"
  done
done
echo
echo "MB/s = 10^6 bytes per second, as the load driver reports it (every GET verified). Load average at end $(cut -d' ' -f1-3 /proc/loadavg)."
