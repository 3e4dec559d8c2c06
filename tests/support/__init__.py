"""Helpers the tests (and the benchmarks) share; never installed with the product."""
