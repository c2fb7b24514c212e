"""Benchmarks at 100 times Scotland's volume: `make bench` (see bench/README.md)."""
