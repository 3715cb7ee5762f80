"""Benchmarks of the simulation, each against a baseline run in the same process."""
