"""The web edge: problem+json errors, health checks, OpenAPI, the static pages."""
