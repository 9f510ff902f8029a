#!/usr/bin/env bash
# The performance-regression gate: a short in-process run of the gate suites (perf/Predastore.Benchmarks/EndToEnd),
# compared with perf/gate-baseline.json. Bytes allocated per operation are checked against budgets; times only as
# ratios of two benchmarks measured in the same run. A failing check is measured once more before it fails.
# Last line: "gate: N checks, F failed"; exit status 1 when F > 0.
#
#   perf/gate.sh                     check
#   perf/gate.sh --update-baseline   measure and rewrite perf/gate-baseline.json (review its diff)
#   perf/gate.sh --inject scalar     prove the gate: force the scalar codec kernel (a slowdown)
#   perf/gate.sh --inject alloc      prove the gate: every encode allocates 64 bytes
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

baseline=perf/gate-baseline.json
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --update-baseline) update=1 ;;
    --inject)
      shift
      case "${1:-}" in
        scalar) export PREDASTORE_GATE_KERNEL=Scalar ;;
        alloc) export PREDASTORE_GATE_ALLOCATE=64 ;;
        *) echo "gate: --inject scalar|alloc"; echo "gate: 0 checks, 1 failed"; exit 2 ;;
      esac ;;
    --baseline) shift; baseline="$1" ;;
    *) echo "gate: unknown option $1"; echo "gate: 0 checks, 1 failed"; exit 2 ;;
  esac
  shift
done

command -v python3 >/dev/null || { apt-get install -y -qq python3 >/dev/null 2>&1; }

work=$(mktemp -d /tmp/predastore-gate.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! dotnet build perf/Predastore.Benchmarks -c Release -nologo -clp:ErrorsOnly >"$work/build.log" 2>&1; then
  grep -E "error|Error" "$work/build.log" | sort -u | head -n 40
  echo "gate: benchmark build failed"
  echo "gate: 0 checks, 1 failed"
  exit 1
fi

# run NAME FILTER...: one in-process BenchmarkDotNet run of the given suites; JSON results in $work/NAME.
run() {
  local name=$1; shift
  local filters=()
  for f in "$@"; do filters+=("*$f*"); done
  echo "gate: running ${*} ..."
  if ! dotnet run -c Release --project perf/Predastore.Benchmarks --no-build -- \
      --filter "${filters[@]}" --job short --inProcess --warmupCount 3 --iterationCount 9 --iterationTime 150 \
      --exporters json --artifacts "$work/$name" >"$work/$name.log" 2>&1; then
    tail -n 40 "$work/$name.log"
    echo "gate: benchmark run failed"
    return 1
  fi
  grep -E '^\|' "$work/$name.log" | grep -v -- '---' | cut -c1-200
  return 0
}

suites=(GateCodecBenchmarks GatePipelineBenchmarks RangeGetBenchmarks)
if ! run first "${suites[@]}"; then echo "gate: 0 checks, 1 failed"; exit 1; fi

# check.py RESULTS_DIR... : evaluates every check on the results (later directories override earlier ones).
cat >"$work/check.py" <<'PY'
import glob, json, math, sys

baseline_path, mode, *dirs = sys.argv[1:]
baseline = json.load(open(baseline_path))
results = {}
for d in dirs:
    for f in glob.glob(f"{d}/results/*.json"):
        for b in json.load(open(f))["Benchmarks"]:
            key = f"{b['Type']}.{b['Method']}" + (f"({b['Parameters']})" if b.get("Parameters") else "")
            results[key] = {"median": b["Statistics"]["Median"], "bytes": b["Memory"]["BytesAllocatedPerOperation"]}

def need(key):
    if key not in results:
        raise KeyError(f"no result for {key} (have {', '.join(sorted(results))})")
    return results[key]

def fmt_bytes(n):
    return f"{n:,.0f} B"

failed, suites_to_rerun, lines = [], set(), []
for c in baseline["checks"]:
    kind, name = c["kind"], c["name"]
    try:
        if kind == "ratio":
            # A ratio of times: numerator time ÷ denominator time = denominator speed ÷ numerator speed.
            num, den = need(c["numerator"]), need(c["denominator"])
            measured = num["median"] / den["median"]
            threshold = c["baseline"] * c["min_fraction"]
            ok = measured >= threshold
            text = (f"{name}: {c['what']}: measured {measured:.4f} ({c['numerator']} {num['median']/1e3:,.1f} us ÷ "
                    f"{c['denominator']} {den['median']/1e3:,.1f} us), baseline {c['baseline']:.4f}, "
                    f"threshold >= {threshold:.4f} ({c['min_fraction']:.2f} x baseline)")
            benches = [c["numerator"], c["denominator"]]
            if mode == "update":
                c["baseline"] = round(measured, 4)
        elif kind == "allocation":
            r = need(c["benchmark"])
            measured = r["bytes"]
            ok = measured <= c["budget_bytes"]
            text = (f"{name}: {c['benchmark']} allocates {fmt_bytes(measured)} per operation, "
                    f"budget {fmt_bytes(c['budget_bytes'])} (baseline {fmt_bytes(c['baseline_bytes'])})")
            benches = [c["benchmark"]]
            if mode == "update":
                c["baseline_bytes"] = measured
                c["budget_bytes"] = measured if c["headroom"] == 0 else int(math.ceil(measured * (1 + c["headroom"]) / 1024) * 1024)
        elif kind == "allocation_delta":
            a, b = need(c["benchmark"]), need(c["reference"])
            measured = a["bytes"] - b["bytes"]
            ok = measured <= c["budget_bytes"]
            text = (f"{name}: {c['benchmark']} allocates {fmt_bytes(a['bytes'])}, {c['reference']} {fmt_bytes(b['bytes'])}: "
                    f"difference {fmt_bytes(measured)}, budget {fmt_bytes(c['budget_bytes'])}")
            benches = [c["benchmark"], c["reference"]]
        else:
            raise ValueError(f"unknown check kind {kind}")
    except (KeyError, ValueError) as e:
        ok, text, benches = False, f"{name}: {e}", []
    lines.append(("ok  " if ok else "FAIL") + " " + text)
    if not ok:
        failed.append(name)
        suites_to_rerun.update(x.split(".")[0] for x in benches)

print("\n".join(lines))
if mode == "update":
    json.dump(baseline, open(baseline_path, "w"), indent=2)
    open(baseline_path, "a").write("\n")
with open(f"{dirs[-1]}.failed", "w") as f:
    f.write(" ".join(sorted(suites_to_rerun)) + "\n" + str(len(failed)) + "\n" + str(len(baseline["checks"])) + "\n")
PY

if [ $update -eq 1 ]; then
  python3 "$work/check.py" "$baseline" update "$work/first" || { echo "gate: 0 checks, 1 failed"; exit 1; }
  echo "gate: baseline $baseline updated; review and commit its diff"
  total=$(sed -n 3p "$work/first.failed")
  echo "gate: $total checks, 0 failed"
  exit 0
fi

python3 "$work/check.py" "$baseline" check "$work/first" || { echo "gate: 0 checks, 1 failed"; exit 1; }
rerun=$(sed -n 1p "$work/first.failed")
failed=$(sed -n 2p "$work/first.failed")
total=$(sed -n 3p "$work/first.failed")
if [ "$failed" -gt 0 ] && [ -n "$rerun" ]; then
  echo "gate: $failed check(s) failed; measuring ${rerun} once more before failing"
  # shellcheck disable=SC2086
  if run second $rerun; then
    python3 "$work/check.py" "$baseline" check "$work/first" "$work/second" || { echo "gate: 0 checks, 1 failed"; exit 1; }
    failed=$(sed -n 2p "$work/second.failed")
  fi
fi

echo "gate: $total checks, $failed failed"
[ "$failed" -eq 0 ]
