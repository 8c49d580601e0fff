"""Dual-registration duty: who has done their quarterly service, per grid and partner unit."""
