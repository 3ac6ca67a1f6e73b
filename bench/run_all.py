"""`make bench`: run every benchmark under bench/ and print one table."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import print_table  # noqa: E402

BENCHMARKS = ["bench.ingest", "bench.rename", "bench.generate", "bench.slides", "bench.workflows", "bench.memory",
              "bench.library", "bench.library_page", "bench.auth_read", "bench.templates_preview",
              "bench.templates_search", "bench.api_limit", "bench.billing_webhooks"]


def main() -> int:
    results = []
    for name in BENCHMARKS:
        sys.argv = [name]
        outcome = importlib.import_module(name).main()
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    print()
    print_table(results)
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
