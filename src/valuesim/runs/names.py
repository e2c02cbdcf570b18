"""The file names of a run directory, in one place (``RunDir`` is the only code that opens them;
help texts and reports name them from here). No imports: the CLI reads these at start-up."""

RUN_FILE, LOCK_FILE, SPLIT_FILE, STORE_FILE, ESTIMATE_FILE = ("run.json", ".lock", "split.json", "predictions.sqlite",
                                                             "estimate.json")
OLD_POPULATION_STORE = "population.sqlite"  # population runs before one store (issue 18): adopted on open
REPORT_DIR = "report"
