#!/usr/bin/env bash
# The field report's test, here: `aws s3 cp` of a 600 MB image up (multipart, 8 MiB parts, the CLI's defaults)
# and down (the CLI's parallel ranged GETs) against `predastore serve`, with no --cli-read-timeout.
# Prints MB/s each way, both md5s, the gateway's peak resident memory and how long CompleteMultipartUpload took.
# Installs the AWS CLI from Debian's packages when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-600}
port=${PORT:-9320}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

if ! command -v aws >/dev/null; then
  apt-get install -y -q awscli >/dev/null
fi

dotnet build src/Server -c Release -nologo -clp:ErrorsOnly >/dev/null
export PREDASTORE_ACCESS_KEY=cptest PREDASTORE_SECRET_KEY=cptest-secret
export AWS_ACCESS_KEY_ID=$PREDASTORE_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$PREDASTORE_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
dotnet src/Server/bin/Release/net10.0/predastore.dll serve --data "$work/data" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "serving S3" "$work/serve.log" && break; sleep 0.2; done

head -c $((size_mb * 1000 * 1000)) /dev/urandom > "$work/image.img"
s3="aws --endpoint-url http://127.0.0.1:$port"
$s3 s3 mb s3://images >/dev/null

( while kill -0 $server 2>/dev/null; do awk '/VmRSS/ {print $2}' /proc/$server/status; sleep 0.2; done ) > "$work/rss" &
sampler=$!

t0=$(date +%s.%N)
$s3 s3 cp --only-show-errors "$work/image.img" s3://images/image.img
t1=$(date +%s.%N)
$s3 s3 cp --only-show-errors s3://images/image.img "$work/back.img"
t2=$(date +%s.%N)
kill $sampler

up=$(echo "scale=1; $size_mb / ($t1 - $t0)" | bc)
down=$(echo "scale=1; $size_mb / ($t2 - $t1)" | bc)
complete=$(grep -o "CompleteMultipartUpload images/image.img -> 200 [0-9]* bytes in [0-9.]* ms" "$work/serve.log" | grep -o "[0-9.]* ms$" || echo "n/a")
parts=$(grep -c "UploadPart images/image.img -> 200" "$work/serve.log" || true)
echo "md5 sent     $(md5sum < "$work/image.img" | cut -d' ' -f1)"
echo "md5 received $(md5sum < "$work/back.img" | cut -d' ' -f1)"
echo "aws s3 cp ${size_mb} MB: up $up MB/s ($parts parts, CompleteMultipartUpload $complete), down $down MB/s, gateway peak RSS $(( $(sort -n "$work/rss" | tail -n 1) / 1024 )) MiB"
cmp -s "$work/image.img" "$work/back.img"
