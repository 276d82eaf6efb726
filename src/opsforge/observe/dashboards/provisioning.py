"""Write the dashboards and Grafana's provisioning files into a directory.

::

    OUT/dashboards/opsforge-agent.json         (and -logs, -runs)
    OUT/provisioning/datasources/opsforge.yml  the Prometheus datasource
    OUT/provisioning/dashboards/opsforge.yml   a file provider reading OUT/dashboards

Point Grafana at it with ``[paths] provisioning = OUT/provisioning`` (or copy the two
YAML files into ``/etc/grafana/provisioning/``). Files are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from opsforge.observe.dashboards.catalog import all_dashboards

__all__ = ["datasource_yaml", "provider_yaml", "write_dashboards"]

DATASOURCE_UID = "opsforge-prometheus"


def datasource_yaml(prometheus_url: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus (opsforge)",
                "uid": DATASOURCE_UID,
                "type": "prometheus",
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": False,
                "jsonData": {"timeInterval": "15s"},
            }
        ],
    }


def provider_yaml(dashboards_dir: Path) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "opsforge",
                "orgId": 1,
                "folder": "opsforge",
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": True,
                "updateIntervalSeconds": 30,
                "options": {"path": str(dashboards_dir), "foldersFromFilesStructure": False},
            }
        ],
    }


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_dashboards(out: Path, prometheus_url: str) -> list[Path]:
    """Write everything under ``out``; returns the files written."""
    out = out.resolve()
    written = []
    for dashboard in all_dashboards():
        path = out / "dashboards" / f"{dashboard.uid}.json"
        _write(path, json.dumps(dashboard.to_json(), indent=2) + "\n")
        written.append(path)
    for path, data in (
        (out / "provisioning/datasources/opsforge.yml", datasource_yaml(prometheus_url)),
        (out / "provisioning/dashboards/opsforge.yml", provider_yaml(out / "dashboards")),
    ):
        _write(path, yaml.safe_dump(data, sort_keys=False))
        written.append(path)
    return written
