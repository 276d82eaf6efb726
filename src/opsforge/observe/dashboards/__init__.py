"""Grafana dashboards (plain JSON from our own builders) and provisioning files."""

from __future__ import annotations

from opsforge.observe.dashboards.builder import Dashboard, Panel, Target, query_variable
from opsforge.observe.dashboards.catalog import (
    agent_dashboard,
    all_dashboards,
    logs_dashboard,
    runs_dashboard,
)
from opsforge.observe.dashboards.provisioning import write_dashboards

__all__ = [
    "Dashboard",
    "Panel",
    "Target",
    "agent_dashboard",
    "all_dashboards",
    "logs_dashboard",
    "query_variable",
    "runs_dashboard",
    "write_dashboards",
]
