"""Volunteer activities and their rotating check-in codes."""
