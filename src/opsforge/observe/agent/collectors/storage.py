"""Filesystems (``statvfs`` of each mount) and block devices (``/proc/diskstats``).

Exclusion defaults are node_exporter's (Debian 1.5 ``--help``): pseudo and container
mounts and pseudo filesystem types are not reported; ``ram``, ``loop``, ``fd`` and
partitions of whole disks are not listed as disks.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family, Labels

__all__ = [
    "DEFAULT_DEVICE_EXCLUDE",
    "DEFAULT_FS_TYPES_EXCLUDE",
    "DEFAULT_MOUNT_POINTS_EXCLUDE",
    "DiskstatsCollector",
    "FilesystemCollector",
]

DEFAULT_MOUNT_POINTS_EXCLUDE = (
    r"^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
DEFAULT_FS_TYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs"
    r"|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs"
    r"|squashfs|sysfs|tracefs)$"
)
DEFAULT_DEVICE_EXCLUDE = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"

_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    """Mount fields escape space, tab, newline and backslash as ``\\ooo``."""
    if "\\" not in field:
        return field
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


_FS_FAMILIES = (
    ("node_filesystem_size_bytes", "Filesystem size in bytes."),
    ("node_filesystem_free_bytes", "Filesystem free space in bytes."),
    ("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes."),
    ("node_filesystem_files", "Filesystem total file nodes."),
    ("node_filesystem_files_free", "Filesystem total free file nodes."),
    ("node_filesystem_readonly", "Filesystem read-only status."),
    (
        "node_filesystem_device_error",
        "Whether an error occurred while getting statistics for the given device.",
    ),
)


@dataclass(frozen=True, slots=True)
class FilesystemCollector:
    mount_points_exclude: re.Pattern[str] = re.compile(DEFAULT_MOUNT_POINTS_EXCLUDE)
    fs_types_exclude: re.Pattern[str] = re.compile(DEFAULT_FS_TYPES_EXCLUDE)

    def _mounts(self, ctx: ScrapeContext) -> str:
        try:  # the host's view, like node_exporter, when the agent runs in its own namespace
            return ctx.proc("1/mounts")
        except OSError:
            return ctx.proc("self/mounts")

    def __call__(self, ctx: ScrapeContext) -> list[Family]:
        families = [Family(name, "gauge", text) for name, text in _FS_FAMILIES]
        size, free, avail, files, files_free, readonly, error = families
        seen: set[tuple[str, str]] = set()
        for line in self._mounts(ctx).splitlines():
            parts = line.split()
            if len(parts) < 4:
                continue
            device, mountpoint, fstype = _unescape(parts[0]), _unescape(parts[1]), parts[2]
            if self.mount_points_exclude.search(mountpoint) or self.fs_types_exclude.search(fstype):
                continue
            if (device, mountpoint) in seen:
                continue
            seen.add((device, mountpoint))
            labels: Labels = (("device", device), ("fstype", fstype), ("mountpoint", mountpoint))
            ro = 1 if "ro" in parts[3].split(",") else 0
            try:
                st = os.statvfs(mountpoint)
            except OSError:
                error.add(1, labels)
                continue
            error.add(0, labels)
            size.add(st.f_blocks * st.f_bsize, labels)
            free.add(st.f_bfree * st.f_bsize, labels)
            avail.add(st.f_bavail * st.f_bsize, labels)
            files.add(st.f_files, labels)
            files_free.add(st.f_ffree, labels)
            readonly.add(ro, labels)
        return families


# /proc/diskstats columns after major, minor, name: (family, help, scale)
_DISK_FIELDS: tuple[tuple[str, str, float], ...] = (
    ("node_disk_reads_completed_total", "The total number of reads completed successfully.", 1),
    ("node_disk_reads_merged_total", "The total number of reads merged.", 1),
    ("node_disk_read_bytes_total", "The total number of bytes read successfully.", 512),
    ("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", 1e-3),
    ("node_disk_writes_completed_total", "The total number of writes completed successfully.", 1),
    ("node_disk_writes_merged_total", "The number of writes merged.", 1),
    ("node_disk_written_bytes_total", "The total number of bytes written successfully.", 512),
    (
        "node_disk_write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        1e-3,
    ),
    ("node_disk_io_now", "The number of I/Os currently in progress.", 1),
    ("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", 1e-3),
    (
        "node_disk_io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        1e-3,
    ),
    (
        "node_disk_discards_completed_total",
        "The total number of discards completed successfully.",
        1,
    ),
    ("node_disk_discards_merged_total", "The total number of discards merged.", 1),
    ("node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", 1),
    (
        "node_disk_discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        1e-3,
    ),
    (
        "node_disk_flush_requests_total",
        "The total number of flush requests completed successfully",
        1,
    ),
    (
        "node_disk_flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        1e-3,
    ),
)
_UDEV_KEYS = (
    ("model", "E:ID_MODEL="),
    ("path", "E:ID_PATH="),
    ("revision", "E:ID_REVISION="),
    ("serial", "E:ID_SERIAL_SHORT="),
    ("wwn", "E:ID_WWN="),
)


@dataclass(frozen=True, slots=True)
class DiskstatsCollector:
    device_exclude: re.Pattern[str] = re.compile(DEFAULT_DEVICE_EXCLUDE)

    def _udev(self, ctx: ScrapeContext, major: str, minor: str) -> dict[str, str]:
        try:
            with open(ctx.paths.udev_data / f"b{major}:{minor}", encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError:
            return {}
        found = {}
        for label, prefix in _UDEV_KEYS:
            for line in lines:
                if line.startswith(prefix):
                    found[label] = line[len(prefix) :]
                    break
        return found

    def __call__(self, ctx: ScrapeContext) -> list[Family]:
        info = Family("node_disk_info", "gauge", "Info of /sys/block/<block_device>.")
        families = [
            Family(name, "gauge" if name == "node_disk_io_now" else "counter", text)
            for name, text, _ in _DISK_FIELDS
        ]
        for line in ctx.proc("diskstats").splitlines():
            parts = line.split()
            if len(parts) < 14:
                continue
            major, minor, device = parts[0], parts[1], parts[2]
            if self.device_exclude.search(device):
                continue
            udev = self._udev(ctx, major, minor)
            info.add(
                1,
                (
                    ("device", device),
                    ("major", major),
                    ("minor", minor),
                    *((label, udev.get(label, "")) for label, _ in _UDEV_KEYS),
                ),
            )
            labels: Labels = (("device", device),)
            for family, (_, _, scale), raw in zip(families, _DISK_FIELDS, parts[3:], strict=False):
                value = int(raw)
                family.add(value * scale if scale != 1 else value, labels)
        return [info, *families]
