"""Test doubles shared by the tests and the benchmarks; no production package imports them."""
