"""Service records: deeds outside activities, verified by the member's grid leader."""
