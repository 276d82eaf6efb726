"""Grafana dashboard JSON from small builders (no dashboard SDK).

A :class:`Dashboard` collects rows of panels; :meth:`Dashboard.to_json` lays them out on
Grafana's 24-column grid (each row of panels fills the width), numbers the panels and
returns the dashboard model (schemaVersion 39) that Grafana's file provisioning loads.
Every query goes to the datasource variable ``${datasource}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DATASOURCE", "Dashboard", "Panel", "Target", "query_variable"]

GRID_WIDTH = 24
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


@dataclass(frozen=True, slots=True)
class Target:
    expr: str
    legend: str = ""
    instant: bool = False

    def to_json(self, ref: str) -> dict[str, Any]:
        return {
            "datasource": DATASOURCE,
            "expr": self.expr,
            "legendFormat": self.legend,
            "refId": ref,
            "instant": self.instant,
            "range": not self.instant,
        }


@dataclass(frozen=True, slots=True)
class Panel:
    """One panel: ``kind`` is a Grafana panel type (stat, gauge, timeseries, table)."""

    title: str
    kind: str
    targets: tuple[Target, ...]
    unit: str = "short"
    height: int = 8
    description: str = ""
    max_value: float | None = None
    thresholds: tuple[tuple[float, str], ...] = ()
    stacked: bool = False

    def to_json(self, panel_id: int, x: int, y: int, width: int) -> dict[str, Any]:
        steps = [{"color": "green", "value": None}] + [
            {"color": color, "value": value} for value, color in self.thresholds
        ]
        defaults: dict[str, Any] = {
            "unit": self.unit,
            "thresholds": {"mode": "absolute", "steps": steps},
        }
        if self.max_value is not None:
            defaults["min"] = 0
            defaults["max"] = self.max_value
        if self.kind == "timeseries":
            defaults["custom"] = {
                "drawStyle": "line",
                "fillOpacity": 10,
                "showPoints": "never",
                "stacking": {"mode": "normal" if self.stacked else "none", "group": "A"},
            }
        refs = [chr(ord("A") + i) for i in range(len(self.targets))]
        return {
            "id": panel_id,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "datasource": DATASOURCE,
            "gridPos": {"h": self.height, "w": width, "x": x, "y": y},
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": _options(self.kind),
            "targets": [t.to_json(r) for t, r in zip(self.targets, refs, strict=True)],
        }


def _options(kind: str) -> dict[str, Any]:
    if kind in ("stat", "gauge"):
        return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    if kind == "timeseries":
        return {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
    return {}


def query_variable(name: str, query: str, label: str, *, include_all: bool = False) -> Any:
    """A template variable filled from ``label_values(...)``."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-query"},
        "definition": query,
        "refresh": 2,  # on time range change
        "includeAll": include_all,
        "multi": include_all,
        "sort": 1,
        "current": {},
        "hide": 0,
    }


@dataclass
class Dashboard:
    uid: str
    title: str
    tags: tuple[str, ...] = ("opsforge",)
    variables: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[str | None, list[Panel]]] = field(default_factory=list)
    refresh: str = "30s"

    def row(self, *panels: Panel, title: str | None = None) -> Dashboard:
        self.rows.append((title, list(panels)))
        return self

    def panels(self) -> list[Panel]:
        return [p for _, panels in self.rows for p in panels]

    def to_json(self) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        y = 0
        panel_id = 1
        for title, panels in self.rows:
            if title is not None:
                out.append(
                    {
                        "id": panel_id,
                        "type": "row",
                        "title": title,
                        "collapsed": False,
                        "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                        "panels": [],
                    }
                )
                panel_id += 1
                y += 1
            width = GRID_WIDTH // len(panels)
            height = max(p.height for p in panels)
            for index, panel in enumerate(panels):
                last = index == len(panels) - 1
                w = GRID_WIDTH - width * index if last else width
                out.append(panel.to_json(panel_id, width * index, y, w))
                panel_id += 1
            y += height
        datasource = {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        }
        return {
            "uid": self.uid,
            "title": self.title,
            "tags": list(self.tags),
            "timezone": "browser",
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "editable": True,
            "graphTooltip": 1,
            "refresh": self.refresh,
            "time": {"from": "now-6h", "to": "now"},
            "templating": {"list": [datasource, *self.variables]},
            "annotations": {"list": []},
            "panels": out,
        }
