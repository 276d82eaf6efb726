"""Prometheus alerting rules for the agent's metrics (and node_exporter's: same names).

:func:`alerting_rules` returns the rule groups as data; :func:`rules_yaml` the file
Prometheus loads (``rule_files:``). Thresholds and ``for:`` durations come from
:class:`RuleSettings`; ``for_scale`` shrinks every ``for:`` (0 fires at once: staging
and tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["RuleSettings", "alerting_rules", "format_duration", "rules_yaml"]


@dataclass(frozen=True, slots=True)
class RuleSettings:
    job: str = ""  # a regex over the job label of the agent's targets; empty: every job
    disk_free_percent: float = 10.0
    disk_fill_hours: float = 24.0
    memory_available_percent: float = 10.0
    load_per_cpu: float = 2.0
    clock_skew_seconds: float = 30.0
    unit_restarts_per_hour: int = 5
    cert_days: float = 14.0
    for_scale: float = 1.0


def format_duration(seconds: float) -> str:
    """Prometheus duration text: ``90`` → ``1m30s``; 0 → ``0s``."""
    whole = round(seconds)
    if whole <= 0:
        return "0s"
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return "".join(parts)


def _rule(
    s: RuleSettings,
    name: str,
    expr: str,
    for_seconds: float,
    severity: str,
    summary: str,
    description: str,
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": format_duration(for_seconds * s.for_scale),
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description},
    }


def _sel(s: RuleSettings, metric: str, *matchers: str) -> str:
    """``metric{job=~"...",matchers...}``, or the bare name when there is nothing to match."""
    parts = [f'job=~"{s.job}"'] if s.job else []
    parts.extend(matchers)
    return f"{metric}{{{','.join(parts)}}}" if parts else metric


def _host_rules(s: RuleSettings) -> list[dict[str, Any]]:
    fs = ('fstype!~"tmpfs|ramfs|rootfs"', 'mountpoint!=""')
    avail = _sel(s, "node_filesystem_avail_bytes", *fs)
    size = _sel(s, "node_filesystem_size_bytes", *fs)
    writable = _sel(s, "node_filesystem_readonly", *fs) + " == 0"
    hours = s.disk_fill_hours
    idle_cpus = _sel(s, "node_cpu_seconds_total", 'mode="idle"')
    return [
        _rule(
            s,
            "HostDown",
            _sel(s, "up") + " == 0",
            120,
            "critical",
            "Host {{ $labels.instance }} is down",
            "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}).",
        ),
        _rule(
            s,
            "HostDiskWillFillSoon",
            f"({avail} / {size} * 100 < 40)"
            f" and (predict_linear({avail}[6h], {round(hours * 3600)}) < 0)"
            f" and ({writable})",
            3600,
            "warning",
            "Disk {{ $labels.mountpoint }} on {{ $labels.instance }} fills within "
            f"{hours:g}h",
            "At the rate of the last 6 hours, {{ $labels.device }} mounted on "
            "{{ $labels.mountpoint }} runs out of space within " + f"{hours:g} hours.",
        ),
        _rule(
            s,
            "HostDiskAlmostFull",
            f"({avail} / {size} * 100 < {s.disk_free_percent:g}) and ({writable})",
            300,
            "critical",
            "Disk {{ $labels.mountpoint }} on {{ $labels.instance }} is almost full",
            'Only {{ $value | printf "%.1f" }}% of {{ $labels.mountpoint }} is free.',
        ),
        _rule(
            s,
            "HostMemoryPressure",
            f"({_sel(s, 'node_memory_MemAvailable_bytes')}"
            f" / {_sel(s, 'node_memory_MemTotal_bytes')} * 100 < {s.memory_available_percent:g})"
            f" or (rate({_sel(s, 'node_pressure_memory_stalled_seconds_total')}[5m]) > 0.1)",
            300,
            "warning",
            "Memory pressure on {{ $labels.instance }}",
            "Available memory is low or tasks stall on memory (PSI) on {{ $labels.instance }}.",
        ),
        _rule(
            s,
            "HostHighLoad",
            f"{_sel(s, 'node_load5')} / on(instance, job)"
            f" count by (instance, job) ({idle_cpus})"
            f" > {s.load_per_cpu:g}",
            900,
            "warning",
            "High load on {{ $labels.instance }}",
            'The 5-minute load per CPU is {{ $value | printf "%.2f" }}.',
        ),
        _rule(
            s,
            "HostClockSkew",
            f"abs({_sel(s, 'node_time_seconds')} - timestamp({_sel(s, 'node_time_seconds')}))"
            f" > {s.clock_skew_seconds:g}",
            600,
            "warning",
            "Clock skew on {{ $labels.instance }}",
            "The host's clock is {{ $value | printf \"%.0f\" }}s away from Prometheus's.",
        ),
        _rule(
            s,
            "HostUnitRestartingTooOften",
            f"increase({_sel(s, 'node_systemd_service_restart_total')}[1h])"
            f" > {s.unit_restarts_per_hour}",
            0,
            "warning",
            "{{ $labels.name }} keeps restarting on {{ $labels.instance }}",
            'systemd restarted {{ $labels.name }} {{ $value | printf "%.0f" }} times in an hour.',
        ),
        _rule(
            s,
            "HostUnitFailed",
            _sel(s, "node_systemd_unit_state", 'state="failed"') + " == 1",
            300,
            "warning",
            "{{ $labels.name }} failed on {{ $labels.instance }}",
            "The systemd unit {{ $labels.name }} is in the failed state.",
        ),
        _rule(
            s,
            "AgentCollectorFailing",
            _sel(s, "opsforge_agent_collector_success") + " == 0",
            900,
            "warning",
            "Collector {{ $labels.collector }} fails on {{ $labels.instance }}",
            "The agent's {{ $labels.collector }} collector fails; its metrics are missing.",
        ),
    ]


def _check_rules(s: RuleSettings) -> list[dict[str, Any]]:
    days = s.cert_days
    not_after = _sel(s, "opsforge_check_tls_cert_not_after_seconds")
    return [
        _rule(
            s,
            "EndpointCheckFailing",
            _sel(s, "opsforge_check_up") + " == 0",
            300,
            "critical",
            "Check {{ $labels.check }} ({{ $labels.kind }}) fails on {{ $labels.instance }}",
            "The {{ $labels.kind }} check {{ $labels.check }} has failed for 5 minutes.",
        ),
        _rule(
            s,
            "CertificateExpiringSoon",
            f"({not_after} - time()) / 86400 < {days:g}",
            3600,
            "warning",
            'Certificate of {{ $labels.check }} expires in {{ $value | printf "%.0f" }} days',
            f"The certificate checked by {{{{ $labels.check }}}} expires within {days:g} days.",
        ),
        _rule(
            s,
            "CertificateExpired",
            f"{not_after} - time() <= 0",
            0,
            "critical",
            "Certificate of {{ $labels.check }} has expired",
            "The certificate checked by {{ $labels.check }} is past its expiry date.",
        ),
    ]


def alerting_rules(settings: RuleSettings | None = None) -> dict[str, Any]:
    """The rules file's content: two groups (host, checks)."""
    s = settings or RuleSettings()
    return {
        "groups": [
            {"name": "opsforge-host", "rules": _host_rules(s)},
            {"name": "opsforge-checks", "rules": _check_rules(s)},
        ]
    }


def rules_yaml(settings: RuleSettings | None = None) -> str:
    header = "# Prometheus alerting rules generated by `opsforge alerts rules`.\n"
    body = yaml.safe_dump(alerting_rules(settings), sort_keys=False, width=100)
    return header + body
