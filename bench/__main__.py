"""``python -m bench …`` from the repository (``make bench``); benchmarks are not installed."""

from bench.cli import bench

bench()
