#!/usr/bin/env bash
# Issue 3's codec comparison, one command, a few minutes on a 2-core machine: our Reed-Solomon codec against
# Debian's ISA-L (libisal2, via P/Invoke) and a plain memory copy, on the same buffers in the same BenchmarkDotNet run
# (perf/Predastore.Benchmarks/Encode). Installs libisal2 when it is missing and it can (root on Debian); otherwise
# says so and the ISA-L columns stay empty.
# Prints the BenchmarkDotNet tables, a summary table, and last one line:
#   codec: N of 20 rows at or above the anchor, worst ratio R
# (20 rows = RS(2,1) RS(3,2) RS(4,2) RS(8,3) RS(10,4) × 64 KiB, 1 MiB cells × encode, reconstruct-1; the anchor is the
# issue's best of ISA-L 2.32 and klauspost/reedsolomon 1.12 with GFNI on Zen 5; ratio = our GB/s ÷ anchor GB/s).
# Options via environment: CODEC_ITERATIONS (default 7), CODEC_ITERATION_MS (default 120).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ldconfig -p 2>/dev/null | grep -q 'libisal\.so\.2'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "codec.sh: installing libisal2 (ISA-L) with apt-get" >&2
    apt-get install -y -q libisal2 >/dev/null 2>&1 || true
  fi
  if ! ldconfig -p 2>/dev/null | grep -q 'libisal\.so\.2'; then
    echo "codec.sh: ISA-L (libisal2) is MISSING and could not be installed: ISA-L columns will be empty" >&2
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! dotnet build perf/Predastore.Benchmarks -c Release -nologo -clp:ErrorsOnly > "$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  echo "codec.sh: perf/Predastore.Benchmarks does not build (see above)" >&2
  exit 1
fi
# Run from a private copy: others build the same tree meanwhile, and a rebuild must not swap the assemblies under
# a running benchmark.
cp -r perf/Predastore.Benchmarks/bin/Release/net10.0 "$work/bin"
bench=$work/bin/Predastore.Benchmarks.dll
# In-process keeps the run to a few minutes (no process per benchmark); medians of short iterations.
job=(--inProcess --job short --warmupCount 3 --iterationCount "${CODEC_ITERATIONS:-7}"
     --iterationTime "${CODEC_ITERATION_MS:-120}" --exporters json)

dotnet "$bench" --filter '*.CodecBenchmarks.*' '*.CodecReconstruct2Benchmarks.*' "${job[@]}" \
  --artifacts "$work/main" > "$work/main.log" 2>&1 || { cat "$work/main.log"; exit 1; }
# The AVX2 floor: the runtime without AVX-512, as on a CPU that lacks it (ISA-L's AVX2 kernel is called directly).
DOTNET_EnableAVX512F=0 DOTNET_EnableAVX512=0 dotnet "$bench" --filter '*.CodecAvx2Benchmarks.*' "${job[@]}" \
  --artifacts "$work/avx2" > "$work/avx2.log" 2>&1 || { cat "$work/avx2.log"; exit 1; }

grep -E '^(BenchmarkDotNet|AMD|Intel|[0-9]+ CPU|  \[Host\]|\.NET SDK)' "$work/main.log" | head -6 || true
grep -E '^\|' "$work/main.log"
echo
grep -E '^\|' "$work/avx2.log"
echo

python3 - "$work" <<'PY'
import glob, json, sys
work = sys.argv[1]
rows = {}
for path in glob.glob(f"{work}/*/results/*.json"):
    for b in json.load(open(path))["Benchmarks"]:
        case = b["Parameters"].split("=", 1)[1]
        median = (b.get("Statistics") or {}).get("Median")
        rows[(case, b["Method"])] = median

anchors = {  # issue 3: encode, reconstruct 1, reconstruct 2 (GB/s)
    "RS(2,1)/64KiB": (143.6, 135.7, None), "RS(2,1)/1MiB": (74.7, 74.2, None),
    "RS(3,2)/64KiB": (114.4, 151.0, 105.6), "RS(3,2)/1MiB": (70.8, 82.2, 70.9),
    "RS(4,2)/64KiB": (125.5, 141.3, 116.4), "RS(4,2)/1MiB": (77.2, 94.0, 77.7),
    "RS(8,3)/64KiB": (137.0, 187.2, 149.1), "RS(8,3)/1MiB": (92.7, 113.3, 100.4),
    "RS(10,4)/64KiB": (97.8, 175.6, 144.2), "RS(10,4)/1MiB": (82.5, 112.9, 105.0),
}

def gbps(case, method):
    k = int(case[3:case.index(",")])
    cell = 1 << 20 if case.endswith("1MiB") else 64 << 10
    median = rows.get((case, method))
    return None if not median else k * cell / median

fmt = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"
print("| config | op | GB/s | ISA-L 2.30 GB/s | ÷ISA-L | memcpy GB/s | ÷memcpy | anchor | ÷anchor |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
gate = []
for case, figures in anchors.items():
    for op, anchor in zip(("Encode", "Reconstruct1", "Reconstruct2"), figures):
        if anchor is None:
            continue
        ours, isal, mem = gbps(case, op), gbps(case, op + "IsaL"), gbps(case, "Memcpy")
        ratio = None if ours is None else ours / anchor
        if op != "Reconstruct2":
            gate.append(ratio)
        print(f"| {case} | {op} | {fmt(ours)} | {fmt(isal)} | {fmt(None if ours is None or isal is None else ours / isal, 2)} "
              f"| {fmt(mem)} | {fmt(None if ours is None or mem is None else ours / mem, 2)} | {anchor} | {fmt(ratio, 2)} |")
for case in ("RS(2,1)/1MiB", "RS(3,2)/1MiB"):
    ours, isal = gbps(case, "EncodeAvx2"), gbps(case, "EncodeAvx2IsaL")
    print(f"| {case} | Encode, AVX2 only | {fmt(ours)} | {fmt(isal)} (AVX2) | "
          f"{fmt(None if ours is None or isal is None else ours / isal, 2)} | | | | |")
measured = [r for r in gate if r is not None]
at_or_above = sum(1 for r in measured if r >= 1.0)
worst = min(measured) if measured else float("nan")
print()
print(f"codec: {at_or_above} of {len(gate)} rows at or above the anchor, worst ratio {worst:.2f}")
PY
