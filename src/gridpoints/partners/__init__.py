"""Sign-in for partner units: their contacts download their members\x27 community record."""
