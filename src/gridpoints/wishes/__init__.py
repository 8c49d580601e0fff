"""Micro-wishes (微心愿): posted by the community, claimed, fulfilled and confirmed."""
