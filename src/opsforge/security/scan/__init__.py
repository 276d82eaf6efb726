"""``opsforge scan``: code (Bandit), secrets, dependencies (OSV) and configuration."""

from __future__ import annotations

from opsforge.security.scan.file_scan import SCANNERS
from opsforge.security.scan.runner import ScanOptions, default_jobs, run_scan

__all__ = ["SCANNERS", "ScanOptions", "default_jobs", "run_scan"]
