"""The member import (a CSV or XLSX roster into members, all rows or none), one module per
step: `reading` the file into rows, `checking` the rows, `starting` the job from an upload,
and the `job` that checks again and writes."""
