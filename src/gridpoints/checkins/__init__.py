"""Check-in and check-out at activities, from phones that lose signal."""
