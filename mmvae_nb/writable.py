"""Before a run trains anything: can its folders take what it will write?

A results cache, checkpoint or output folder that is read-only or full used to be found out at
the first save, after the training it was meant to keep (hours at the paper profile).
``check_writable`` writes and removes a small file in each folder and compares its free space
with ``MIN_FREE_BYTES`` (more than a paper-profile cache entry with its checkpoint), raising one
``OSError`` that names every folder at fault and what to do.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

MIN_FREE_BYTES = 256 * 2**20


def check_writable(folders: Iterable[Path], min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """Raise ``OSError`` unless every folder (created if missing) takes a file and has
    ``min_free_bytes`` free."""
    problems = []
    for folder in map(Path, folders):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
                pass
        except OSError as error:
            problems.append(f"  {folder}: cannot write ({error.strerror or error})")
            continue
        free = shutil.disk_usage(folder).free
        if free < min_free_bytes:
            problems.append(
                f"  {folder}: {free / 2**20:.0f} MiB free, a run needs {min_free_bytes / 2**20:.0f}"
            )
    if problems:
        raise OSError(
            "nothing was trained: these folders cannot take this run's results\n"
            + "\n".join(problems)
            + "\nFree space, or point the cache elsewhere with MMVAE_NB_CACHE (outputs: "
            "MMVAE_NB_ROOT)."
        )
