"""Observe: the metrics agent, alerts, dashboards and log analysis."""
