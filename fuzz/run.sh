#!/usr/bin/env bash
# Builds every fuzz target and runs each for N seconds (default 60), one after another, then
# prints per target the executions, executions per second, coverage and the result.
#   fuzz/run.sh [seconds] [target...]
# Needs the nightly toolchain and cargo-fuzz (installed from crates.io when missing). Not run by
# CI: a crash found here becomes a unit test in barongd with the crashing input. Each run's full
# libFuzzer output is in fuzz/target/logs/<target>.log; a crashing input in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(authz_path multipart api_key_headers admin_frame config rules)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked || exit 1
# -a: debug assertions (integer overflow included) on, as in the test build.
cargo +nightly fuzz build -a || exit 1

mkdir -p target/logs
failed=0
printf '%-16s %12s %8s %6s %7s  %s\n' target execs exec/s cov corpus result
for t in "${targets[@]}"; do
  log=target/logs/$t.log
  # max_len: the example configuration (a seed) is 8.5 KB; libFuzzer's default is 4 KB.
  cargo +nightly fuzz run -a "$t" -- -max_total_time="$secs" -max_len=16384 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  stat() { grep -o "stat::$1: *[0-9]*" "$log" | awk '{print $2}' | tail -n1; }
  last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | awk '{print $2}')
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | awk '{print $2}')
  result=clean
  if [ $rc -ne 0 ]; then
    result="FAILED (exit $rc; see fuzz/$log and fuzz/artifacts/$t/)"
    failed=1
  fi
  printf '%-16s %12s %8s %6s %7s  %s\n' "$t" "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
    "${cov:-?}" "${corp:-?}" "$result"
done
exit $failed
