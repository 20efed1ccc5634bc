"""Timings, printed beside their targets. Never pass/fail: run with `make bench`."""
