"""The file names of a run directory, in one place (``RunDir`` is the only code that opens them;
help texts and reports name them from here). No imports: the CLI reads these at start-up."""

RUN_FILE, LOCK_FILE, SPLIT_FILE, STORE_FILE, ESTIMATE_FILE = ("run.json", ".lock", "split.json", "predictions.sqlite",
                                                             "estimate.json")
OLD_POPULATION_STORE = "population.sqlite"  # population runs before one store (issue 18): adopted on open
REPORT_DIR = "report"


def data_file_name(prefix: str, key: str, suffix: str) -> str:
    """The one way a file name is built from data (an item id, a country code): ``prefix + key +
    suffix`` with every character outside letters, digits, ``_`` ``-`` ``.`` replaced, no leading
    dot and no ``..``, so the name stays one file inside its folder of the run directory ('/' or
    '..' in an id cannot climb out or make sub-folders). A key that had to change gains a short
    hash of the original, so two ids never share a file."""
    import hashlib
    import re

    text = str(key)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", text).replace("..", "_").lstrip(".")[:80] or "_"
    if safe != text:
        safe += "-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{prefix}{safe}{suffix}"
