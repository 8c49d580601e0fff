"""Points: scoring rule sets from `scoring_rules/`, the append-only ledger, and reading points."""
