# shellcheck shell=bash
# Shared by bench/lab-*.sh: build the CLI once (Release) and run it as `egress`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "the lab benches need root (network namespaces): sudo $0" >&2
  exit 2
fi
# Inside the full-kernel VM (no network, slow CPU) the host has built everything already.
[ "${EGRESS_IN_VM-}" = 1 ] || dotnet build src/Egress.Cli -c Release -nologo -v q -clp:NoSummary >/dev/null
EGRESS="$PWD/src/Egress.Cli/bin/Release/net10.0/egress"
[ -x "$EGRESS" ] || { echo "build did not produce $EGRESS" >&2; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
