"""The grid tree: org units from sub-district down to stairwell unit."""
