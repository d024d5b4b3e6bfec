"""Benchmarks of the warehouse (see bench/README.md). Not part of the shipped packages."""
