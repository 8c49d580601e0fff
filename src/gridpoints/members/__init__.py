"""People: members and their categories, roles on org units, partner units and dual
registration."""
