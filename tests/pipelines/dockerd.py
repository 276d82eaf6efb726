"""A private dockerd for the docker executor tests: started here, stopped by its PID.

It listens on a unix socket in a short temporary directory, keeps its data and exec
roots there, and does not touch the host's network (no bridge, no iptables). The test
image is built ``FROM scratch`` with the host's static busybox (``DOCKER_BUILDKIT=0``,
nothing pulled).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IMAGE = "opsforge-test/busybox:1"


class DockerUnavailable(Exception):
    """Why the tests cannot have a dockerd (the skip reason)."""


def _busybox() -> str:
    """The static busybox (a dynamic one fails the image build, which says so)."""
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(candidate):
            return candidate
    raise DockerUnavailable("no static busybox (apt-get install busybox-static)")


@contextmanager
def private_dockerd() -> Iterator[str]:
    """Yield a DOCKER_HOST url of a fresh dockerd with the test image built."""
    if os.geteuid() != 0:
        raise DockerUnavailable("dockerd needs root")
    dockerd = shutil.which("dockerd") or shutil.which("dockerd", path="/usr/sbin")
    if dockerd is None or shutil.which("docker") is None:
        raise DockerUnavailable("dockerd/docker not installed (apt-get install docker.io)")
    busybox = _busybox()
    base = Path(tempfile.mkdtemp(prefix="ofdk", dir="/tmp"))
    sock = base / "d.sock"
    host = f"unix://{sock}"
    log = open(base / "dockerd.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [dockerd, "--data-root", str(base / "data"), "--exec-root", str(base / "x"),
         "-H", host, "--pidfile", str(base / "d.pid"), "--iptables=false",
         "--ip6tables=false", "--bridge=none"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    env = {**os.environ, "DOCKER_HOST": host, "DOCKER_BUILDKIT": "0"}
    try:
        deadline = time.monotonic() + 120
        while True:
            ok = subprocess.run(["docker", "version"], env=env, capture_output=True, check=False)
            if ok.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (base / "dockerd.log").read_text()[-400:]
                raise DockerUnavailable(f"dockerd did not start: {tail.strip().splitlines()[-1:]}")
            time.sleep(0.2)
        context = base / "image"
        context.mkdir()
        shutil.copy(busybox, context / "busybox")
        (context / "Dockerfile").write_text(
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        )
        build = subprocess.run(
            ["docker", "build", "-q", "-t", IMAGE, str(context)], env=env, capture_output=True,
            text=True, check=False, timeout=180,
        )  # fmt: skip
        if build.returncode != 0:
            raise DockerUnavailable(f"cannot build the busybox image: {build.stderr[-300:]}")
        yield host
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        _unmount_below(base)
        shutil.rmtree(base, ignore_errors=True)


def _unmount_below(base: Path) -> None:
    """Unmount what dockerd left mounted under ``base`` (``<exec-root>/netns/default``,
    a bind of the host's network namespace), deepest first, so the directory can go."""
    prefix = f"{base}/"
    with open("/proc/mounts", encoding="utf-8") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
