#!/usr/bin/env bash
# Prints how many AWS API calls egress makes on the seed topology for plan, apply, a no-op plan and destroy,
# measured against the in-memory fake AWS (tests/Egress.Aws.Testing, a test-support project; no network). The no-op plan must be read-only and bounded:
# nine describes per topology region, whatever the number of resources, plus the sweep of the other enabled
# regions (one DescribeRegions, one DescribeTags per region).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet test tests/Egress.Aws.Tests -v q --filter "FullyQualifiedName~CallCountTests|FullyQualifiedName~Apply_CrashAfterEveryMutatingStep|FullyQualifiedName~Destroy_CrashAfterEveryMutatingStep|FullyQualifiedName~Apply_Throttled" \
  --logger "console;verbosity=detailed" 2>&1 \
  | grep -E "bench:|makes [0-9]+ mutating calls|throttled calls" | sed -E 's/^[[:space:]]+//' | sort -u
