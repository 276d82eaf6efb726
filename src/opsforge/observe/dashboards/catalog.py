"""The dashboards opsforge ships: the agent (hosts), log analysis, opsforge's own runs."""

from __future__ import annotations

from opsforge.observe.dashboards.builder import Dashboard, Panel, Target, query_variable

__all__ = ["agent_dashboard", "all_dashboards", "logs_dashboard", "runs_dashboard"]

HOST = 'job="$job",instance="$instance"'
RATE = "$__rate_interval"


def _t(expr: str, legend: str = "", *, instant: bool = False) -> tuple[Target, ...]:
    return (Target(expr, legend, instant),)


def agent_dashboard() -> Dashboard:
    """One host at a time, the queries of Grafana's "Node Exporter Full" for the basics."""
    d = Dashboard(uid="opsforge-agent", title="opsforge / Host (agent)")
    d.variables += [
        query_variable("job", "label_values(node_uname_info, job)", "Job"),
        query_variable("instance", 'label_values(node_uname_info{job="$job"}, instance)', "Host"),
    ]
    cpu_busy = f'100 * (1 - avg(rate(node_cpu_seconds_total{{mode="idle",{HOST}}}[{RATE}])))'
    ram_used = (
        f"100 * (1 - node_memory_MemAvailable_bytes{{{HOST}}}"
        f" / node_memory_MemTotal_bytes{{{HOST}}})"
    )
    root_fs = (
        f'100 - 100 * node_filesystem_avail_bytes{{{HOST},mountpoint="/"}}'
        f' / node_filesystem_size_bytes{{{HOST},mountpoint="/"}}'
    )
    load = (
        f"100 * scalar(node_load1{{{HOST}}})"
        f' / count(count(node_cpu_seconds_total{{{HOST},mode="idle"}}) by (cpu))'
    )
    pct = ((70.0, "orange"), (90.0, "red"))
    d.row(
        Panel("CPU Busy", "gauge", _t(cpu_busy), "percent", 6, max_value=100, thresholds=pct),
        Panel("RAM Used", "gauge", _t(ram_used), "percent", 6, max_value=100, thresholds=pct),
        Panel("Root FS Used", "gauge", _t(root_fs), "percent", 6, max_value=100, thresholds=pct),
        Panel("SYS Load (1m)", "gauge", _t(load), "percent", 6, max_value=100, thresholds=pct),
        Panel(
            "Uptime", "stat", _t(f"node_time_seconds{{{HOST}}} - node_boot_time_seconds{{{HOST}}}"),
            "s", 6,
        ),
    )  # fmt: skip
    d.row(
        Panel(
            "CPU by mode",
            "timeseries",
            _t(
                f"sum by (mode) (rate(node_cpu_seconds_total{{{HOST}}}[{RATE}]))"
                f" / scalar(count(count(node_cpu_seconds_total{{{HOST}}}) by (cpu)))",
                "{{mode}}",
            ),
            "percentunit",
            stacked=True,
        ),
        Panel(
            "Memory",
            "timeseries",
            (
                Target(f"node_memory_MemTotal_bytes{{{HOST}}}", "total"),
                Target(
                    f"node_memory_MemTotal_bytes{{{HOST}}}"
                    f" - node_memory_MemAvailable_bytes{{{HOST}}}",
                    "used",
                ),
                Target(
                    f"node_memory_Cached_bytes{{{HOST}}} + node_memory_Buffers_bytes{{{HOST}}}",
                    "cache + buffers",
                ),
                Target(
                    f"node_memory_SwapTotal_bytes{{{HOST}}} - node_memory_SwapFree_bytes{{{HOST}}}",
                    "swap used",
                ),
            ),
            "bytes",
        ),
        title="CPU and memory",
    )
    d.row(
        Panel(
            "Network traffic",
            "timeseries",
            (
                Target(f"rate(node_network_receive_bytes_total{{{HOST}}}[{RATE}]) * 8",
                       "{{device}} in"),
                Target(f"rate(node_network_transmit_bytes_total{{{HOST}}}[{RATE}]) * 8",
                       "{{device}} out"),
            ),
            "bps",
        ),
        Panel(
            "Disk I/O",
            "timeseries",
            (
                Target(f"rate(node_disk_read_bytes_total{{{HOST}}}[{RATE}])", "{{device}} read"),
                Target(f"rate(node_disk_written_bytes_total{{{HOST}}}[{RATE}])",
                       "{{device}} written"),
            ),
            "Bps",
        ),
        Panel(
            "Filesystem space available",
            "timeseries",
            _t(f"node_filesystem_avail_bytes{{{HOST}}}", "{{mountpoint}}"),
            "bytes",
        ),
        title="Network and storage",
    )  # fmt: skip
    d.row(
        Panel(
            "Pressure (PSI)",
            "timeseries",
            (
                Target(f"rate(node_pressure_cpu_waiting_seconds_total{{{HOST}}}[{RATE}])", "cpu"),
                Target(f"rate(node_pressure_memory_waiting_seconds_total{{{HOST}}}[{RATE}])",
                       "memory"),
                Target(f"rate(node_pressure_io_waiting_seconds_total{{{HOST}}}[{RATE}])", "io"),
            ),
            "percentunit",
        ),
        Panel(
            "TCP connections",
            "timeseries",
            _t(f'node_tcp_connection_states{{{HOST},state!~".*_bytes"}}', "{{state}}"),
        ),
        Panel(
            "Context switches / interrupts",
            "timeseries",
            (
                Target(f"rate(node_context_switches_total{{{HOST}}}[{RATE}])", "context switches"),
                Target(f"rate(node_intr_total{{{HOST}}}[{RATE}])", "interrupts"),
            ),
            "ops",
        ),
        title="Kernel",
    )  # fmt: skip
    d.row(
        Panel("Checks", "table", _t(f"opsforge_check_up{{{HOST}}}", instant=True),
              description="1 passing, 0 failing"),
        Panel("Check duration", "timeseries",
              _t(f"opsforge_check_duration_seconds{{{HOST}}}", "{{check}}"), "s"),
        Panel(
            "TLS certificate days left",
            "table",
            _t(f"(opsforge_check_tls_cert_not_after_seconds{{{HOST}}} - time()) / 86400",
               instant=True),
            "d",
        ),
        title="Checks",
    )  # fmt: skip
    d.row(
        Panel("Collector success", "table",
              _t(f"opsforge_agent_collector_success{{{HOST}}}", instant=True)),
        Panel("Scrape duration", "timeseries",
              _t(f"opsforge_agent_scrape_duration_seconds{{{HOST}}}", "scrape"), "s"),
        Panel("Process groups", "timeseries",
              _t(f"opsforge_process_count{{{HOST}}}", "{{group}}")),
        title="Agent",
    )  # fmt: skip
    return d


def logs_dashboard() -> Dashboard:
    """Log analysis (``opsforge logs``): lines per template, top templates, new templates."""
    d = Dashboard(uid="opsforge-logs", title="opsforge / Log templates")
    d.variables.append(
        query_variable("job", "label_values(opsforge_log_template_lines_total, job)", "Job")
    )
    lines = 'opsforge_log_template_lines_total{job="$job"}'
    d.row(
        Panel("Log lines per second", "stat", _t(f"sum(rate({lines}[{RATE}]))"), "ops", 6),
        Panel("Templates seen", "stat", _t(f"count(count without (instance) ({lines}))"), "short"),
    )
    d.row(
        Panel(
            "Top templates (lines/s)",
            "timeseries",
            _t(f"topk(10, sum without (instance) (rate({lines}[{RATE}])))"),
            "ops",
            height=10,
        ),
        Panel(
            "Templates by lines (last hour)",
            "table",
            _t(f"topk(25, sum without (instance) (increase({lines}[1h])))", instant=True),
            height=10,
        ),
        title="Templates",
    )
    return d


def runs_dashboard() -> Dashboard:
    """opsforge's own runs (``$OPSFORGE_METRICS_PUSH`` / ``$OPSFORGE_METRICS_TEXTFILE``)."""
    d = Dashboard(uid="opsforge-runs", title="opsforge / Runs")
    d.variables.append(
        query_variable(
            "command", "label_values(opsforge_run_exit_code, command)", "Command", include_all=True
        )
    )
    cmd = 'command=~"$command"'
    d.row(
        Panel("Last exit code", "stat", _t(f"max by (command) (opsforge_run_exit_code{{{cmd}}})",
              "{{command}}"), thresholds=((1.0, "red"),)),
        Panel("Last run duration", "stat",
              _t(f"max by (command) (opsforge_run_duration_seconds{{{cmd}}})", "{{command}}"), "s"),
        Panel("Since the last run", "stat",
              _t(f"time() - max by (command) (opsforge_run_finished_timestamp_seconds{{{cmd}}})",
                 "{{command}}"), "s"),
    )  # fmt: skip
    d.row(
        Panel("Hosts by status (last run)", "timeseries",
              _t(f"sum by (command, status) (opsforge_run_hosts{{{cmd}}}) > 0",
                 "{{command}} {{status}}"), stacked=True),
        Panel("Changed / failed operations per host", "table",
              _t(f'sum by (command, host, status) (opsforge_run_host_operations{{{cmd},'
                 f'status=~"changed|failed"}})', instant=True)),
        Panel("Duration per host", "timeseries",
              _t(f"max by (command, host) (opsforge_run_host_duration_seconds{{{cmd}}})",
                 "{{command}} {{host}}"), "s"),
        title="Hosts",
    )  # fmt: skip
    return d


def all_dashboards() -> list[Dashboard]:
    return [agent_dashboard(), logs_dashboard(), runs_dashboard()]
