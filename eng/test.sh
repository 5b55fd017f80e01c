#!/usr/bin/env bash
# Runs every test project of the solution once (one Release build, then `dotnet test --no-build`)
# and ends with one line: "N passed, N failed, N skipped", summed over all test projects.
# Root-only tests (network namespaces) run when this is run as root; with CI set they fail, never
# skip, when a prerequisite is missing. It starts the EC2/SSM emulator the AWS tests need itself (below).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
start=$(date +%s)

# The EC2/SSM emulator for the real SDK adapter suite (SdkAdapterTests) and the shipped tier's AWS verbs
# (tests/Egress.Shipped.Tests): ../shared/tools/moto-server on a free 127.0.0.1 port, stopped by its PID when this
# script exits. An EGRESS_TEST_AWS_ENDPOINT already set (an emulator of your own) is used as it is. If it does not come
# up, the variable stays unset: those tests skip for a developer, and with CI set they fail (never skip).
moto_pid=
moto_log=$(mktemp)
log=
cleanup() {
  if [ -n "$moto_pid" ]; then
    kill "$moto_pid" 2>/dev/null
    wait "$moto_pid" 2>/dev/null
    moto_pid=
  fi
  rm -f "$moto_log" ${log:+"$log"}
}
trap cleanup EXIT
moto=../shared/tools/moto-server
if [ -n "${EGRESS_TEST_AWS_ENDPOINT:-}" ]; then
  echo "moto-server: using EGRESS_TEST_AWS_ENDPOINT=$EGRESS_TEST_AWS_ENDPOINT"
elif [ ! -x "$moto" ]; then
  echo "moto-server not found at $moto (the emulator tests skip; with CI set they fail)"
elif ! moto_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); then
  echo "moto-server: no free port (python3 missing?); the emulator tests skip (with CI set they fail)"
else
  moto_start=$(date +%s)
  "$moto" "$moto_port" >"$moto_log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 1 60); do
    curl -fsS -X POST "http://127.0.0.1:$moto_port/moto-api/reset" >/dev/null 2>&1 && break
    kill -0 "$moto_pid" 2>/dev/null || break
    sleep 0.5
  done
  if curl -fsS -X POST "http://127.0.0.1:$moto_port/moto-api/reset" >/dev/null 2>&1; then
    export EGRESS_TEST_AWS_ENDPOINT="http://127.0.0.1:$moto_port"
    echo "moto-server: pid $moto_pid on $EGRESS_TEST_AWS_ENDPOINT (up in $(( $(date +%s) - moto_start )) s)"
  else
    echo "moto-server did not start (the emulator tests skip; with CI set they fail; its python3 packages are in .ci/run):"
    tail -n 20 "$moto_log"
  fi
fi

if ! dotnet build Egress.slnx -c Release -nologo -v q -clp:NoSummary; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

log=$(mktemp)
# The shipped tier (tests/Egress.Shipped.Tests) writes its count of egress invocations here as it goes.
shipped_summary=artifacts/shipped-tier/summary.txt
rm -f "$shipped_summary"
# The VM lab's tests run in their own tier below, alone (two software-emulated VMs take both cores).
dotnet test Egress.slnx -c Release --no-build -nologo --filter "Category!=VmLab" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# "shipped tier: N invocations (...), N exits 70, N stack traces, N unexpected exit codes"; any exit 70 or stack trace
# has failed its test above already.
if [ -f "$shipped_summary" ]; then
  cat "$shipped_summary"
else
  echo "shipped tier: no invocation count (it did not run; see above)"
fi

# "Passed!  - Failed:     0, Passed:    85, Skipped:     0, Total:    85, ..." per test project.
read -r passed failed skipped projects < <(awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
    line = $0
    gsub(/[^0-9,]/, " ", line)
    split(line, f, ",")
    failed += f[1]; passed += f[2]; skipped += f[3]; projects++
  }
  END { printf "%d %d %d %d\n", passed, failed, skipped, projects }' "$log")

# The full-kernel tier (ipip, gre, netem) runs in a QEMU VM: always in CI, for a developer when
# EGRESS_KERNEL_TIER=1 (root; eng/vm/vm.sh setup installs qemu and the kernel).
if [ "${EGRESS_KERNEL_TIER:-${CI:+1}}" = 1 ]; then
  tier_start=$(date +%s)
  tier_log=$(mktemp)
  eng/vm/vm.sh run -- tests/kernel-tier/tier.sh 2>&1 | tee "$tier_log"
  tier_line=$(grep -E '^kernel tier: [0-9]+ passed, [0-9]+ failed' "$tier_log" | tail -n 1)
  rm -f "$tier_log"
  if [ -n "$tier_line" ]; then
    read -r tier_passed tier_failed < <(echo "$tier_line" | awk '{ print $3, $5 }')
  else
    tier_passed=0 tier_failed=1 # the VM did not boot or the tier died: a failure, never a skip
  fi
  passed=$((passed + tier_passed)) failed=$((failed + tier_failed))
  echo "kernel tier wall time: $(( $(date +%s) - tier_start )) s"
else
  echo "kernel tier: skipped (needs root and EGRESS_KERNEL_TIER=1; CI always runs it)"
  skipped=$((skipped + 1))
fi

# The VM lab tier: the seed's hosts boot as QEMU VMs from the user data `egress apply` sends (cloud-init's Ec2
# datasource, IMDSv2, systemd), the gateway's Elastic IP comes only after its first boot, verify passes over SSH, down
# (and Ctrl-C during up) leaves nothing, both hosts reboot and verify passes again, and the failover example fails over between gateway VMs (docs/vm-lab.md). Always in CI, for a developer when EGRESS_VM_LAB=1 (root). It runs after
# everything else, alone: two software-emulated VMs take both cores. The image is built first (cached by its recipe).
if [ "${EGRESS_VM_LAB:-${CI:+1}}" = 1 ]; then
  vm_start=$(date +%s)
  vm_log=$(mktemp)
  if eng/vm/image.sh build >/dev/null; then
    echo "vm lab tier: image ready after $(( $(date +%s) - vm_start )) s"
    # The default console logger: its "Passed!  - Failed: ..." line is what the count below reads.
    EGRESS_VM_LAB=1 dotnet test tests/Egress.Lab.RootTests -c Release --no-build -nologo --filter "Category=VmLab" 2>&1 | tee "$vm_log"
    vm_rc=${PIPESTATUS[0]}
    read -r vm_passed vm_failed vm_skipped < <(awk '
      /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
        line = $0; gsub(/[^0-9,]/, " ", line); split(line, f, ","); failed += f[1]; passed += f[2]; skipped += f[3]; n++
      }
      END { printf "%d %d %d\n", passed, (n == 0 ? 1 : failed), skipped }' "$vm_log")
    [ "$vm_rc" -ne 0 ] && [ "$vm_failed" -eq 0 ] && vm_failed=1
  else
    echo "vm lab tier: the image build failed"
    vm_passed=0 vm_failed=1 vm_skipped=0
  fi
  rm -f "$vm_log"
  passed=$((passed + vm_passed)) failed=$((failed + vm_failed)) skipped=$((skipped + vm_skipped))
  echo "vm lab tier wall time: $(( $(date +%s) - vm_start )) s"
else
  echo "vm lab tier: skipped (needs root and EGRESS_VM_LAB=1; CI always runs it)"
  skipped=$((skipped + 1))
fi

expected=$(find tests -name '*Tests.csproj' | wc -l)
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # a test host crashed or a project did not report: count it, never hide it
fi
if [ "$projects" -ne "$expected" ]; then
  echo "only $projects of $expected test projects reported results"
  [ "$failed" -eq 0 ] && failed=1
fi
echo "test wall time: $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
