"""Scenario files, the runner and the `sharesim` command line."""
