"""Background jobs: the one way to start one, the job table, the arq worker and the
in-process runner."""
