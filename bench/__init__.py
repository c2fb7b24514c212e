"""Benchmarks at 100 times Scotland's volume: `make bench` (see the README's "Benchmarks")."""
