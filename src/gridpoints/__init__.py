"""Gridpoints: volunteer points and evaluation for community Party-building grids."""
