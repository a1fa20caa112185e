"""Benchmarks: `make bench` (python -m benchmarks). Each prints ratios measured in the same run."""
