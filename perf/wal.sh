#!/usr/bin/env bash
# WAL append and read throughput beside fio on the same disk, in one go.
#   perf/wal.sh            (needs root or fio already installed; writes ~3 GiB under ${TMPDIR:-/tmp})
# fio patterns: sequential 1 MiB (and 64 KiB) writes with an fdatasync after every write (the WAL's cadence with
# one writer: each append is one group commit), and sequential 1 MiB buffered reads of the laid-out file with the
# page cache kept warm (the WAL read benchmark reads a warm 256 MiB shard in 1 MiB calls).
# Ends with: wal: append R1 of fio, read R2 of fio
# where R1 and R2 are medians over WAL_ROUNDS (default 5) rounds in which fio and the WAL take turns on the disk: the
# WAL's 1-writer 1 MiB append (one fdatasync per append) and warm read figures over the mean of fio's just before and
# just after. The table above it (every WAL benchmark beside the best fio figure) is for reading, not for the ratio.
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

# Writes go to a new file each time, as the WAL appends into newly allocated segments: rewriting blocks a file has
# already written skips the block allocation and the extent conversion that every fdatasync otherwise commits, which
# this disk does ~1.45x as fast (printed below as the ceiling for recycled segments).
fio_write() { # $1: file, $2: block size, more fio args follow
  local file=$1 bs=$2; shift 2
  rm -f "$work/$file"
  fio_bw write --rw=write --bs="$bs" --size=256M --fdatasync=1 --filename="$file" "$@"
}

max() { python3 -c "import sys; print(max(map(float, sys.argv[1:])))" "$@"; }

echo "fio: sequential writes with fdatasync after each write, then warm sequential reads ($work)" >&2
fio_w1m=$(fio_write seq1m 1M)
fio_w64k=$(fio_write seq64k 64k)
fio_r1m=$(fio_bw read --rw=read --bs=1M --size=256M --invalidate=0 --loops=4 --filename=seq1m)
# The O_DIRECT question, measured on the same disk: the same write pattern bypassing the page cache.
fio_w1m_direct=$(fio_write direct1m 1M --direct=1)
fio_w64k_direct=$(fio_write direct64k 64k --direct=1)
rm -f "$work"/direct1m "$work"/direct64k
rm -f "$work"/seq1m "$work"/seq64k

echo "BenchmarkDotNet: *Wal* (short job)" >&2
dotnet build -c Release perf/Predastore.Benchmarks -nologo -clp:ErrorsOnly >&2
# A private copy: a rebuild of the tree must not swap the assemblies under a running benchmark.
cp -r perf/Predastore.Benchmarks/bin/Release/net10.0 "$work/bin"
bench() { dotnet "$work/bin/Predastore.Benchmarks.dll" "$@"; }
bench --filter '*.WalAppendBenchmarks.*' '*.WalReadBenchmarks.*' --job short --exporters json --artifacts "$work/bdn" >&2

# The ratios: shared disks drift by a factor of several within minutes, so the WAL and fio take turns on the disk,
# fio before and after each WAL measurement, and each round's WAL figure is divided by the mean of the fio figures
# on either side of it. The final line is the median of the rounds' ratios.
rounds=${WAL_ROUNDS:-5}
echo "paired rounds: fio, WAL, fio, ... ($rounds rounds of 1 MiB appends + fdatasync and warm 1 MiB reads)" >&2
fio_w1m_rounds=("$(fio_write seq1m 1M)")
fio_r1m_rounds=("$(fio_bw read --rw=read --bs=1M --size=256M --invalidate=0 --loops=4 --filename=seq1m)")
for r in $(seq "$rounds"); do
  bench --filter '*WalAppendBenchmarks*Writers: 1, RecordSize: 1048576*' '*.WalReadBenchmarks.*' --job short \
    --exporters json --artifacts "$work/round$r" > "$work/round$r.log" 2>&1 || { cat "$work/round$r.log" >&2; exit 1; }
  fio_w1m_rounds+=("$(fio_write seq1m 1M)")
  fio_r1m_rounds+=("$(fio_bw read --rw=read --bs=1M --size=256M --invalidate=0 --loops=4 --filename=seq1m)")
done
fio_w1m=$(max "$fio_w1m" "${fio_w1m_rounds[@]}")
fio_w64k=$(max "$fio_w64k" "$(fio_write seq64k 64k)")
fio_w1m_overwrite=$(fio_bw write --rw=write --bs=1M --size=256M --fdatasync=1 --filename=seq1m)
fio_r1m=$(max "$fio_r1m" "${fio_r1m_rounds[@]}")

python3 - "$work" "$rounds" "${fio_w1m_rounds[*]}" "${fio_r1m_rounds[*]}" "$fio_w1m" "$fio_w64k" "$fio_r1m" "$fio_w1m_direct" "$fio_w64k_direct" "$fio_w1m_overwrite" <<'PY'
import glob, json, statistics, sys
work, rounds, w_rounds, r_rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
fio_w1m, fio_w64k, fio_r1m, fio_w1m_direct, fio_w64k_direct, fio_w1m_overwrite = map(float, sys.argv[5:])
def load(results):
    rows = {}
    for path in glob.glob(f"{results}/*.json"):
        for b in json.load(open(path))["Benchmarks"]:
            rows[(b["Type"], b.get("Parameters", ""))] = b
    return rows
rows = load(f"{work}/bdn/results")
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
print(f"fio 1 MiB + fdatasync rewriting a file's written blocks (the ceiling for recycled segments): {fio_w1m_overwrite / mib:.0f} MiB/s")
print()
print("paired rounds (MiB/s; fio = mean of the fio runs just before and just after):")
print(f"{'round':>5} {'append':>8} {'fio':>8} {'ratio':>6} {'read':>8} {'fio':>8} {'ratio':>6}")
append_ratios, read_ratios = [], []
for r in range(1, rounds + 1):
    round_rows = load(f"{work}/round{r}/results")
    wal_w = 64 * 1024 / round_rows[("WalAppendBenchmarks", f"Writers=1&RecordSize={mib}")]["Statistics"]["Median"] * 1e9 / mib
    wal_r = mib / round_rows[("WalReadBenchmarks", "")]["Statistics"]["Median"] * 1e9 / mib
    fio_w = (float(w_rounds[r - 1]) + float(w_rounds[r])) / 2 / mib
    fio_r = (float(r_rounds[r - 1]) + float(r_rounds[r])) / 2 / mib
    append_ratios.append(wal_w / fio_w)
    read_ratios.append(wal_r / fio_r)
    print(f"{r:>5} {wal_w:>8.0f} {fio_w:>8.0f} {wal_w / fio_w:>6.2f} {wal_r:>8.0f} {fio_r:>8.0f} {wal_r / fio_r:>6.2f}")
print(f"wal: append {statistics.median(append_ratios):.2f} of fio, read {statistics.median(read_ratios):.2f} of fio")
PY
