"""Benchmark corpus generator and runner (issue 6); not part of the installed package."""
