"""What every study shares, individual and population alike.

* ``runner``: the one runner. A protocol (``evaluation.work``, ``population.work``) yields work
  items (store key, who answers, question, truth); the runner plans them, skips what is stored,
  fits, executes and writes rows; ``--estimate`` walks the same items with a dry-run model.
* ``rundir``: the run directory (``RunDir``): every file name (``names``) and every read and
  write, what produced the run (run.json), whether it may be resumed, and the lock.
* ``store``: the one SQLite schema (predictions, traces, contexts, questions, personas,
  sessions), batched commits, migration of older layouts.
* ``people``: the one place a ``PersonContext`` is built. ``trace``: ``Trace``, how every reader
  reads what a prediction recorded.
* ``execute``: the loop that keeps a model server busy. ``render``: pages, tables, figures, safe
  CSV and atomic file writes.
"""
