"""``opsforge scan --update-db``: fetch the OSV advisory database for PyPI.

The archive is downloaded next to its destination, checked (a readable zip
with OSV records) and only then renamed over the old copy, so an interrupted
or failed download never leaves a half-written database behind.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from opsforge.errors import ConnectError
from opsforge.security.scan.advisories import AdvisoryDBError, load_advisory_db
from opsforge.state import state_dir

__all__ = [
    "DB_ENV_VAR",
    "DEFAULT_DB_URL",
    "AdvisoryFetchError",
    "default_db_path",
    "fetch_advisory_db",
]

#: OSV's export of every PyPI advisory (PYSEC and GHSA), one JSON record per file.
DEFAULT_DB_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
#: Environment variable naming the database when --db is not given.
DB_ENV_VAR = "OPSFORGE_ADVISORY_DB"


class AdvisoryFetchError(ConnectError):
    """The advisory database could not be downloaded."""


def default_db_path() -> Path:
    """``$OPSFORGE_ADVISORY_DB``, else ``<state dir>/advisories/osv-pypi.zip``."""
    raw = os.environ.get(DB_ENV_VAR, "").strip()
    if raw:
        return Path(raw).expanduser()
    return state_dir(create=False) / "advisories" / "osv-pypi.zip"


def fetch_advisory_db(dest: Path, url: str = DEFAULT_DB_URL, timeout: float = 60.0) -> int:
    """Download ``url`` to ``dest`` atomically; returns the number of OSV records."""
    if not url.startswith(("https://", "http://", "file://")):
        raise AdvisoryFetchError(f"{url}: only http(s) and file URLs can be fetched")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.download{os.getpid()}")
    try:
        try:
            # the scheme is checked above: http(s) or file only
            response = urllib.request.urlopen(url, timeout=timeout)  # nosec B310
            with response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            message = f"cannot fetch the advisory database from {url}: {reason}"
            raise AdvisoryFetchError(message) from None
        try:
            records = load_advisory_db(tmp).records
        except AdvisoryDBError as exc:
            raise AdvisoryFetchError(f"{url} did not give an OSV advisory archive: {exc}") from None
        os.replace(tmp, dest)
        return records
    finally:
        tmp.unlink(missing_ok=True)
