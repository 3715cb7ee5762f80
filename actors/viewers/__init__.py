"""Viewers: the session views they open and the pill bar they keep."""
