#!/usr/bin/env bash
# WAL append and read throughput beside fio on the same disk, in one go.
#   perf/wal.sh            (needs root or fio already installed; writes ~3 GiB under ${TMPDIR:-/tmp})
# fio patterns: sequential 1 MiB (and 64 KiB) writes with an fdatasync after every write (the WAL's cadence with
# one writer: each append is one group commit), and sequential 1 MiB buffered reads of the laid-out file with the
# page cache kept warm (the WAL read benchmark reads a warm 256 MiB shard in 1 MiB calls).
# Ends with: wal: append R1 of fio, read R2 of fio
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v fio >/dev/null; then
  echo "installing fio" >&2
  (apt-get install -y fio || (apt-get update && apt-get install -y fio)) >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/predastore-walperf-XXXXXX")
trap 'rm -rf "$work"' EXIT

fio_bw() { # prints bytes/s of the job's direction ($1: read|write), fio args follow
  local dir=$1; shift
  fio --output-format=json --name=wal --directory="$work" --ioengine=psync "$@" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['jobs'][0]['$dir']['bw_bytes'])"
}

max() { python3 -c "import sys; print(max(map(float, sys.argv[1:])))" "$@"; }

echo "fio: sequential writes with fdatasync after each write, then warm sequential reads ($work)" >&2
fio_w1m=$(fio_bw write --rw=write --bs=1M --size=256M --fdatasync=1 --filename=seq1m)
fio_w64k=$(fio_bw write --rw=write --bs=64k --size=256M --fdatasync=1 --filename=seq64k)
fio_r1m=$(fio_bw read --rw=read --bs=1M --size=256M --invalidate=0 --loops=4 --filename=seq1m)
# The O_DIRECT question, measured on the same disk: the same write pattern bypassing the page cache.
fio_w1m_direct=$(fio_bw write --rw=write --bs=1M --size=256M --fdatasync=1 --direct=1 --filename=direct1m)
fio_w64k_direct=$(fio_bw write --rw=write --bs=64k --size=256M --fdatasync=1 --direct=1 --filename=direct64k)
rm -f "$work"/direct1m "$work"/direct64k
rm -f "$work"/seq1m "$work"/seq64k

echo "BenchmarkDotNet: *Wal* (short job)" >&2
dotnet run -c Release --project perf/Predastore.Benchmarks -- --filter '*.WalAppendBenchmarks.*' '*.WalReadBenchmarks.*' \
  --job short --exporters json --artifacts "$work/bdn" >&2

# Shared disks drift by a factor of several within minutes: fio runs again after the benchmarks, and the WAL is
# compared with the better of the two fio figures (the conservative ratio).
echo "fio: again, after the benchmarks" >&2
fio_w1m=$(max "$fio_w1m" "$(fio_bw write --rw=write --bs=1M --size=256M --fdatasync=1 --filename=seq1m)")
fio_w64k=$(max "$fio_w64k" "$(fio_bw write --rw=write --bs=64k --size=256M --fdatasync=1 --filename=seq64k)")
fio_r1m=$(max "$fio_r1m" "$(fio_bw read --rw=read --bs=1M --size=256M --invalidate=0 --loops=4 --filename=seq1m)")

python3 - "$work/bdn/results" "$fio_w1m" "$fio_w64k" "$fio_r1m" "$fio_w1m_direct" "$fio_w64k_direct" <<'PY'
import glob, json, sys
results, fio_w1m, fio_w64k, fio_r1m, fio_w1m_direct, fio_w64k_direct = sys.argv[1], *map(float, sys.argv[2:])
rows = {}
for path in glob.glob(f"{results}/*.json"):
    for b in json.load(open(path))["Benchmarks"]:
        rows[(b["Type"], b.get("Parameters", ""))] = b
mib = 1024 * 1024
def median_ns(type_, params=""):
    return rows[(type_, params)]["Statistics"]["Median"]
def alloc(type_, params=""):
    return rows[(type_, params)].get("Memory", {}).get("BytesAllocatedPerOperation", float("nan"))
# B alloc/call: per append on the append rows, per 1 MiB ReadAsync call on the read row
print(f"{'what':<44} {'MiB/s':>9} {'fio MiB/s':>10} {'ratio':>6} {'B alloc/call':>15}")
append = {}
for writers in (1, 64):
    for size, fio in ((64 * 1024, fio_w64k), (mib, fio_w1m)):
        p = f"Writers={writers}&RecordSize={size}"
        # Mean/Median and Allocated are per 64 KiB appended (see WalAppendBenchmarks)
        mibs = 64 * 1024 / median_ns("WalAppendBenchmarks", p) * 1e9 / mib
        append[(writers, size)] = mibs
        print(f"append {writers:>2} writer(s), {size // 1024:>4} KiB records{'':<13} {mibs:>9.0f} {fio / mib:>10.0f} {mibs / (fio / mib):>6.2f} {alloc('WalAppendBenchmarks', p) * size / (64 * 1024):>15.0f}")
read = mib / median_ns("WalReadBenchmarks") * 1e9 / mib
print(f"{'read 1 MiB calls, 64 KiB records, warm':<44} {read:>9.0f} {fio_r1m / mib:>10.0f} {read / (fio_r1m / mib):>6.2f} {alloc('WalReadBenchmarks'):>15.0f}")
print(f"fio O_DIRECT + fdatasync, 1 MiB / 64 KiB writes: {fio_w1m_direct / mib:.0f} / {fio_w64k_direct / mib:.0f} MiB/s "
      f"(buffered: {fio_w1m / mib:.0f} / {fio_w64k / mib:.0f})")
r1 = append[(1, mib)] / (fio_w1m / mib)
r2 = read / (fio_r1m / mib)
print(f"wal: append {r1:.2f} of fio, read {r2:.2f} of fio")
PY
