"""A job row holds everything a client asks about a job; the worker that runs it may be on
another machine, so uploaded input is kept in the database too (`JobInput`), and so is the
file a job makes for download (`JobOutput`). `attempts` counts the job's starts and
`heartbeat_at` is touched while a run is alive (see `jobs.liveness`)."""

from piccolo.columns import Bytea, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table


class Job(Table, tablename="job"):
    kind = Varchar(length=60)
    status = Varchar(length=20, default="queued", index=True)
    progress = Integer(default=0)
    params = Text(default="{}")
    result = Text(null=True, default=None)
    error = Text(null=True, default=None)
    created_by = Integer(null=True, default=None)
    org_unit_id = Integer(null=True, default=None)
    attempts = Integer(default=0)
    created_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    heartbeat_at = Timestamptz(null=True, default=None)


class JobInput(Table, tablename="job_input"):
    job = ForeignKey(Job, null=False, on_delete=OnDelete.cascade, unique=True)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    data = Bytea()


class JobOutput(Table, tablename="job_output"):
    job = ForeignKey(Job, null=False, on_delete=OnDelete.cascade, unique=True)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    data = Bytea()
