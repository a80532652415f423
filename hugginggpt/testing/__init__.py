"""Test doubles shared by tests and benchmarks (never used by the services themselves)."""
