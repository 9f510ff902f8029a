#!/usr/bin/env bash
# The memory bound of issue "Foundation": `predastore serve` stays under 400 MiB resident while the AWS CLI
# uploads a 1 GiB object (s3api put-object) and downloads it again (s3 cp … -), byte-identical.
# Installs the AWS CLI from Debian's packages when it is missing. Prints one line: "rss: max N MiB, ...".
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
port=${PORT:-9310}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

if ! command -v aws >/dev/null; then
  apt-get install -y -q awscli >/dev/null
fi

dotnet build src/Server -c Release -nologo -clp:ErrorsOnly >/dev/null
export PREDASTORE_ACCESS_KEY=rsscheck PREDASTORE_SECRET_KEY=rsscheck-secret
export AWS_ACCESS_KEY_ID=$PREDASTORE_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$PREDASTORE_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
dotnet src/Server/bin/Release/net10.0/predastore.dll serve --data "$work/data" --port "$port" --log-level Warning > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "serving S3" "$work/serve.log" && break; sleep 0.2; done

head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/object"
endpoint="--endpoint-url http://127.0.0.1:$port"
aws $endpoint s3 mb s3://rss >/dev/null

( while kill -0 $server 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/$server/status; sleep 0.2; done ) > "$work/rss" &
sampler=$!

start=$(date +%s.%N)
aws $endpoint s3api put-object --bucket rss --key object --body "$work/object" >/dev/null
mid=$(date +%s.%N)
aws $endpoint s3 cp s3://rss/object - > "$work/back"
end=$(date +%s.%N)
kill $sampler

cmp -s "$work/object" "$work/back" && same=identical || same=DIFFERENT
max_kib=$(sort -n "$work/rss" | tail -n 1)
echo "rss: max $((max_kib / 1024)) MiB over a ${size_mib} MiB put-object ($(echo "$mid - $start" | bc) s) and s3 cp download ($(echo "$end - $mid" | bc) s), $same"
[ "$same" = identical ]
