"""The agent's core metrics: names, types and label sets as node_exporter's, values as the
kernel's files and node_exporter say on this machine, exposition valid for promtool and
prometheus_client's parsers."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterable

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from observe.servers import http_get
from opsforge.observe.agent import Agent, render

#: every core family with its type and label names (node_exporter 1.5 on Linux)
CORE: dict[str, tuple[str, tuple[str, ...]]] = {
    "node_cpu_seconds_total": ("counter", ("cpu", "mode")),
    "node_cpu_guest_seconds_total": ("counter", ("cpu", "mode")),
    "node_load1": ("gauge", ()),
    "node_load5": ("gauge", ()),
    "node_load15": ("gauge", ()),
    "node_memory_MemTotal_bytes": ("gauge", ()),
    "node_memory_MemFree_bytes": ("gauge", ()),
    "node_memory_MemAvailable_bytes": ("gauge", ()),
    "node_memory_Buffers_bytes": ("gauge", ()),
    "node_memory_Cached_bytes": ("gauge", ()),
    "node_memory_SReclaimable_bytes": ("gauge", ()),
    "node_memory_Active_anon_bytes": ("gauge", ()),
    "node_memory_SwapTotal_bytes": ("gauge", ()),
    "node_memory_HugePages_Total": ("gauge", ()),
    "node_filesystem_size_bytes": ("gauge", ("device", "fstype", "mountpoint")),
    "node_filesystem_free_bytes": ("gauge", ("device", "fstype", "mountpoint")),
    "node_filesystem_avail_bytes": ("gauge", ("device", "fstype", "mountpoint")),
    "node_filesystem_files": ("gauge", ("device", "fstype", "mountpoint")),
    "node_filesystem_files_free": ("gauge", ("device", "fstype", "mountpoint")),
    "node_filesystem_readonly": ("gauge", ("device", "fstype", "mountpoint")),
    "node_filesystem_device_error": ("gauge", ("device", "fstype", "mountpoint")),
    "node_disk_info": (
        "gauge",
        ("device", "major", "minor", "model", "path", "revision", "serial", "wwn"),
    ),
    "node_disk_reads_completed_total": ("counter", ("device",)),
    "node_disk_read_bytes_total": ("counter", ("device",)),
    "node_disk_written_bytes_total": ("counter", ("device",)),
    "node_disk_io_time_seconds_total": ("counter", ("device",)),
    "node_disk_io_time_weighted_seconds_total": ("counter", ("device",)),
    "node_disk_io_now": ("gauge", ("device",)),
    "node_disk_read_time_seconds_total": ("counter", ("device",)),
    "node_disk_write_time_seconds_total": ("counter", ("device",)),
    "node_network_receive_bytes_total": ("counter", ("device",)),
    "node_network_transmit_bytes_total": ("counter", ("device",)),
    "node_network_receive_packets_total": ("counter", ("device",)),
    "node_network_transmit_packets_total": ("counter", ("device",)),
    "node_network_receive_errs_total": ("counter", ("device",)),
    "node_network_receive_drop_total": ("counter", ("device",)),
    "node_network_transmit_colls_total": ("counter", ("device",)),
    "node_uname_info": (
        "gauge",
        ("domainname", "machine", "nodename", "release", "sysname", "version"),
    ),
    "node_boot_time_seconds": ("gauge", ()),
    "node_time_seconds": ("gauge", ()),
    "node_time_zone_offset_seconds": ("gauge", ("time_zone",)),
    "node_context_switches_total": ("counter", ()),
    "node_intr_total": ("counter", ()),
    "node_forks_total": ("counter", ()),
    "node_procs_running": ("gauge", ()),
    "node_procs_blocked": ("gauge", ()),
    "node_pressure_cpu_waiting_seconds_total": ("counter", ()),
    "node_pressure_io_waiting_seconds_total": ("counter", ()),
    "node_pressure_io_stalled_seconds_total": ("counter", ()),
    "node_pressure_memory_waiting_seconds_total": ("counter", ()),
    "node_pressure_memory_stalled_seconds_total": ("counter", ()),
    "node_tcp_connection_states": ("gauge", ("state",)),
    "node_scrape_collector_success": ("gauge", ("collector",)),
    "node_scrape_collector_duration_seconds": ("gauge", ("collector",)),
    "opsforge_agent_collector_success": ("gauge", ("collector",)),
    "opsforge_agent_collector_duration_seconds": ("gauge", ("collector",)),
    "opsforge_agent_scrape_duration_seconds": ("gauge", ()),
}


def _samples(text: str) -> dict[str, list[Sample]]:
    """Family name as written in the text (``_total`` kept) → samples."""
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def _types(text: str) -> dict[str, str]:
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def _value(samples: Iterable[Sample], **labels: str) -> float:
    for sample in samples:
        if all(sample.labels.get(k) == v for k, v in labels.items()):
            return float(sample.value)
    raise AssertionError(f"no sample with {labels}")


@pytest.fixture(scope="module")
def exposition() -> str:
    return render(Agent().collect()).decode()


def test_every_core_family_has_its_type_and_labels(exposition: str) -> None:
    types = _types(exposition)
    samples = _samples(exposition)
    for name, (kind, labels) in CORE.items():
        if name.startswith("node_pressure") and not os.path.exists("/proc/pressure/cpu"):
            continue
        assert types.get(name) == kind, name
        assert samples.get(name), f"{name}: no samples"
        for sample in samples[name]:
            assert tuple(sorted(sample.labels)) == tuple(sorted(labels)), (name, sample)


def test_every_collector_succeeds(exposition: str) -> None:
    success = _samples(exposition)["opsforge_agent_collector_success"]
    failed = [s.labels["collector"] for s in success if s.value != 1]
    assert not failed
    assert {s.labels["collector"] for s in success} >= {
        "cpu", "diskstats", "filesystem", "loadavg", "meminfo", "netdev", "stat", "tcpstat",
        "time", "uname",
    }  # fmt: skip


def test_promtool_accepts_it_as_it_accepts_node_exporter(
    exposition: str, node_exporter: str
) -> None:
    """promtool's lint only objects to the kernel's CamelCase meminfo names, which node_exporter
    has too (they are the drop-in names); nothing else."""
    ours = subprocess.run(
        ["promtool", "check", "metrics"], input=exposition, capture_output=True, text=True
    )
    with http_get(node_exporter) as response:
        theirs_text = response.read().decode()
    theirs = subprocess.run(
        ["promtool", "check", "metrics"], input=theirs_text, capture_output=True, text=True
    )
    problems = [line for line in ours.stderr.splitlines() if line.strip()]
    assert all("node_memory_" in p and "camelCase" in p for p in problems), problems
    assert ours.returncode in (0, 3), ours.stderr  # 3: lint warnings only, never parse errors
    theirs_problems = {line.split()[0] for line in theirs.stderr.splitlines() if line.strip()}
    assert {p.split()[0] for p in problems} <= theirs_problems


def _meminfo() -> dict[str, int]:
    values = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            parts = rest.split()
            values[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return values


def test_memory_matches_proc_meminfo_not_psutil(exposition: str) -> None:
    samples = _samples(exposition)
    meminfo = _meminfo()
    assert samples["node_memory_MemTotal_bytes"][0].value == meminfo["MemTotal"]
    assert samples["node_memory_HugePages_Total"][0].value == meminfo["HugePages_Total"]
    # Cached is the kernel's field (psutil's "cached" adds SReclaimable)
    cached = samples["node_memory_Cached_bytes"][0].value
    assert abs(cached - meminfo["Cached"]) < 64 * 2**20
    assert (
        abs(samples["node_memory_MemAvailable_bytes"][0].value - meminfo["MemAvailable"])
        < 256 * 2**20
    )


def test_cpu_load_and_stat_match_the_kernel(exposition: str) -> None:
    samples = _samples(exposition)
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        stat = f.read().splitlines()
    cpu0 = next(line.split() for line in stat if line.startswith("cpu0 "))
    idle = _value(samples["node_cpu_seconds_total"], cpu="0", mode="idle")
    assert abs(idle - int(cpu0[4]) / ticks) < 5
    cpus = {s.labels["cpu"] for s in samples["node_cpu_seconds_total"]}
    assert len(cpus) == os.cpu_count()
    modes = {s.labels["mode"] for s in samples["node_cpu_seconds_total"]}
    assert modes == {"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
    btime = next(int(line.split()[1]) for line in stat if line.startswith("btime"))
    assert samples["node_boot_time_seconds"][0].value == btime
    assert abs(samples["node_load1"][0].value - os.getloadavg()[0]) < 2
    assert abs(samples["node_time_seconds"][0].value - time.time()) < 60
    uname = samples["node_uname_info"][0].labels
    assert uname["nodename"] == os.uname().nodename
    assert uname["release"] == os.uname().release


def test_filesystems_match_statvfs_and_exclusions(exposition: str) -> None:
    sizes = _samples(exposition)["node_filesystem_size_bytes"]
    mountpoints = {s.labels["mountpoint"] for s in sizes}
    for excluded in ("/proc", "/sys", "/dev", "/dev/shm", "/run"):
        assert excluded not in mountpoints
    assert not {s.labels["fstype"] for s in sizes} & {
        "proc",
        "sysfs",
        "cgroup",
        "cgroup2",
        "tmpfs",
    } - {"tmpfs"}
    root = next(s for s in sizes if s.labels["mountpoint"] == "/")
    st = os.statvfs("/")
    assert root.value == st.f_blocks * st.f_bsize


def test_loop_and_ram_devices_are_not_disks(exposition: str) -> None:
    devices = {s.labels["device"] for s in _samples(exposition)["node_disk_info"]}
    assert devices
    assert not [d for d in devices if re.match(r"^(loop|ram)\d+$", d)]
    with open("/proc/diskstats") as f:
        listed = {line.split()[2] for line in f}
    assert devices <= listed


def _scrape(url: str) -> str:
    with http_get(url) as response:
        return response.read().decode()


def test_same_families_labels_and_values_as_node_exporter(node_exporter: str) -> None:
    """Scraped back to back: every node_exporter family of the core collectors is ours too,
    with the same label sets; gauges and counters agree within a tolerance."""
    theirs_text = _scrape(node_exporter)
    ours_text = render(Agent().collect()).decode()
    theirs, ours = _samples(theirs_text), _samples(ours_text)
    their_types, our_types = _types(theirs_text), _types(ours_text)
    skip = re.compile(r"^(go_|process_|promhttp_|node_exporter_build_info|node_scrape_)")
    missing = sorted(n for n in theirs if not skip.match(n) and n not in ours)
    # families node_exporter derives from netlink/sysfs our kernel files may not carry
    optional = {"node_network_receive_nohandler_total"}
    assert not set(missing) - optional, missing
    for name, samples in theirs.items():
        if skip.match(name) or name not in ours:
            continue
        assert our_types.get(name) == their_types.get(name), name
        their_labels = {tuple(sorted(s.labels)) for s in samples}
        our_labels = {tuple(sorted(s.labels)) for s in ours[name]}
        assert our_labels == their_labels, name
    exact = {
        "node_memory_MemTotal_bytes": {},
        "node_boot_time_seconds": {},
        "node_memory_SwapTotal_bytes": {},
        "node_filesystem_size_bytes": {"mountpoint": "/"},
        "node_filesystem_files": {"mountpoint": "/"},
    }
    for name, labels in exact.items():
        assert abs(_value(ours[name], **labels) - _value(theirs[name], **labels)) <= 1, name
    close = {
        ("node_cpu_seconds_total", (("cpu", "0"), ("mode", "idle"))): 5.0,
        ("node_cpu_seconds_total", (("cpu", "0"), ("mode", "user"))): 5.0,
        ("node_memory_MemAvailable_bytes", ()): 256 * 2**20,
        ("node_filesystem_avail_bytes", (("mountpoint", "/"),)): 512 * 2**20,
        ("node_context_switches_total", ()): 5e6,
        ("node_forks_total", ()): 5e4,
        ("node_pressure_cpu_waiting_seconds_total", ()): 30.0,
    }
    for (name, labels), tolerance in close.items():
        if name not in theirs:
            continue
        ours_v, theirs_v = _value(ours[name], **dict(labels)), _value(theirs[name], **dict(labels))
        assert abs(ours_v - theirs_v) <= tolerance, (name, ours_v, theirs_v)
    for sample in theirs["node_disk_read_bytes_total"]:
        device = sample.labels["device"]
        assert (
            abs(_value(ours["node_disk_read_bytes_total"], device=device) - sample.value)
            < 256 * 2**20
        )
    for sample in theirs["node_network_receive_bytes_total"]:
        device = sample.labels["device"]
        ours_v = _value(ours["node_network_receive_bytes_total"], device=device)
        assert abs(ours_v - sample.value) < 64 * 2**20, device
