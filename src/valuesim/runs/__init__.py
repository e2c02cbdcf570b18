"""What every run shares, evaluation and population alike.

* ``rundir``: the run directory: what produced it (run.json), whether it may be resumed with
  the given settings, and a lock so one process at a time works in it.
* ``store``: the SQLite files: every read and write of predictions, personas and sessions.
* ``execute``: the prediction loop that keeps a model server busy and commits in batches.
* ``render``: Markdown/HTML pages, tables, figures, safe CSV and atomic file writes.
"""
