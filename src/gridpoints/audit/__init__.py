"""The hash-chained audit log of every state change."""
