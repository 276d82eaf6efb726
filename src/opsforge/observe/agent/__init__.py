"""The metrics agent: a Prometheus exporter built on psutil and the kernel's files,
a drop-in for node_exporter's core metrics, with a textfile collector, process groups,
checks as plugins (entry points ``opsforge.checks``) and push mode::

    agent = Agent(load_config(Path("agent.yml")))
    body = agent.scrape()                       # text format 0.0.4
    server = make_server("127.0.0.1:9101", agent)
    server.serve_forever()
"""

from __future__ import annotations

from opsforge.observe.agent.agent import Agent, build_collectors
from opsforge.observe.agent.checks.base import (
    ENTRY_POINT_GROUP,
    Check,
    CheckKind,
    CheckResult,
    check_kinds,
)
from opsforge.observe.agent.collectors import COLLECTOR_NAMES, CORE_COLLECTORS
from opsforge.observe.agent.collectors.base import Paths
from opsforge.observe.agent.config import (
    DEFAULT_LISTEN,
    AgentConfig,
    PushConfig,
    load_config,
    parse_listen,
)
from opsforge.observe.agent.exposition import Family, negotiate, render
from opsforge.observe.agent.push import group_url, push_exposition
from opsforge.observe.agent.server import MetricsServer, make_server

__all__ = [
    "COLLECTOR_NAMES",
    "CORE_COLLECTORS",
    "DEFAULT_LISTEN",
    "ENTRY_POINT_GROUP",
    "Agent",
    "AgentConfig",
    "Check",
    "CheckKind",
    "CheckResult",
    "Family",
    "MetricsServer",
    "Paths",
    "PushConfig",
    "build_collectors",
    "check_kinds",
    "group_url",
    "load_config",
    "make_server",
    "negotiate",
    "parse_listen",
    "push_exposition",
    "render",
]
