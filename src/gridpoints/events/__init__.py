"""Verified facts the points engine reads: append-only, one row per fact and action."""
