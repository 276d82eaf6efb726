"""Alerts: Prometheus alerting rules for the agent's metrics and the Alertmanager webhook
receiver (de-duplication, run history, remediation actions)."""

from __future__ import annotations

from opsforge.observe.alerts.rules import RuleSettings, alerting_rules, rules_yaml

__all__ = ["RuleSettings", "alerting_rules", "rules_yaml"]
