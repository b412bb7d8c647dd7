"""Benchmarks: each `bench_*.py` module prints its figures as ratios against a baseline run beside it."""
