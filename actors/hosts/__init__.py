"""Orchestrators and child agents on their hosts, and the shares they open."""
