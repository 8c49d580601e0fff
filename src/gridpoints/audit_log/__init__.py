"""The audit log as people read it, within their grids (the log itself: `audit`)."""
