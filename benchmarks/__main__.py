"""Run every benchmark: `python -m benchmarks [overhead|store|verify|many|web ...]`."""

from __future__ import annotations

import sys

from benchmarks import (
    bench_approval,
    bench_autonomy,
    bench_crash,
    bench_import,
    bench_langchain,
    bench_many,
    bench_memory,
    bench_overhead,
    bench_policy,
    bench_sandbox,
    bench_store,
    bench_verify,
    bench_web,
)

SUITES = {
    "overhead": bench_overhead.main,
    "store": bench_store.main,
    "verify": bench_verify.main,
    "policy": bench_policy.main,
    "approval": bench_approval.main,
    "autonomy": bench_autonomy.main,
    "import": bench_import.main,
    "langchain": bench_langchain.main,
    "sandbox": bench_sandbox.main,
    "memory": bench_memory.main,
    "crash": bench_crash.main,
    "many": bench_many.main,
    "web": bench_web.main,
}


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(SUITES)}", file=sys.stderr)
        return 2
    for name in names:
        SUITES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
