"""The cached parts of Debian test hosts: a debootstrap rootfs and a local apt repository.

Built once per package list, reused by every later run::

    $OPSFORGE_TEST_CACHE (default /var/cache/opsforge-test)/
        rootfs-bookworm-<hash>/
            rootfs/          debootstrap --variant=minbase + INCLUDE, no apt sources but the
                             local repo, no ssh host keys, no policy-rc.d
            repo/            a flat apt repository: *.deb, Packages, Packages.gz, Release
            manifest.json    what was built, how long it took, how big it is
        build-<hash>.log     the last build's output (debootstrap, apt)

A build happens in a temporary directory next to the entry and is renamed into
place when complete, under a lock, so concurrent runs build once and a failed
or killed build leaves nothing half-made behind. The network is needed only for
the build (debootstrap and ``apt-get --download-only`` from the mirror apt is
configured with on this machine); hosts use the local repository only.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from opsforge.testing.lab import LabError, _start_ticks

__all__ = [
    "DEFAULT_INCLUDE",
    "DEFAULT_REPO_PACKAGES",
    "DebianCache",
    "DebianCacheError",
    "DebianHostsError",
    "cache_base",
    "ensure_cache",
    "load_cache",
    "write_repo_index",
]

SUITE = "bookworm"
CACHE_ENV = "OPSFORGE_TEST_CACHE"
MIRROR_ENV = "OPSFORGE_TEST_DEBIAN_MIRROR"
DEFAULT_BASE = Path("/var/cache/opsforge-test")
#: in the rootfs: sshd, sudo (become), ps/sysctl/pgrep, ip, a real sysv-style service with
#: crontab (cron), python3 (Ansible modules, the ``python`` fact). passwd, mount, hostname,
#: login come with minbase.
#: systemd is installed everywhere; only hosts started with ``init="systemd"`` boot it
DEFAULT_INCLUDE = (
    *("openssh-server", "sudo", "procps", "iproute2", "cron", "python3"),
    *("systemd", "systemd-sysv", "dbus"),
)
#: offered by the local repository (their dependencies not in the rootfs come along)
DEFAULT_REPO_PACKAGES = ("hello", "tree", "jq")
#: a second, newer ``hello`` rebuilt from the real one, so ``latest`` and pinned versions
#: have something to choose between
LOCAL_VERSION_OF = "hello"
LOCAL_VERSION_SUFFIX = "+opsforge1"
#: bump when the build steps change: the cache key changes with it
BUILD_VERSION = 1
BUILD_TIMEOUT = 600.0


class DebianHostsError(LabError):
    """Debian test hosts could not be built, started or stopped."""


class DebianCacheError(DebianHostsError):
    """The rootfs or the local repository cannot be built on this machine (the reason says why)."""


@dataclass(frozen=True, slots=True)
class DebianCache:
    path: Path
    suite: str
    include: tuple[str, ...]
    #: package name -> versions the local repository offers (ascending)
    repo_packages: Mapping[str, tuple[str, ...]]
    #: package name -> version installed in the rootfs
    installed: Mapping[str, str]
    build_seconds: float
    size_bytes: int
    #: True when this call built it, False when it came from the cache
    built_now: bool = False

    @property
    def rootfs(self) -> Path:
        return self.path / "rootfs"

    @property
    def repo(self) -> Path:
        return self.path / "repo"


def cache_base() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_BASE)


def cache_key(suite: str, include: Sequence[str], repo_packages: Sequence[str]) -> str:
    spec = json.dumps([BUILD_VERSION, suite, sorted(include), sorted(repo_packages)])
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def _run(
    cmd: Sequence[str],
    log: Path,
    what: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = BUILD_TIMEOUT,
) -> None:
    """Run ``cmd`` with its output appended to ``log``; DebianCacheError with the log's tail."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DebianCacheError(f"{what} took over {timeout:g}s (log: {log})") from None
    if proc.returncode:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-8:])
        raise DebianCacheError(f"{what} failed (exit {proc.returncode}; log: {log}):\n{tail}")


def _apt_mirror() -> str | None:
    """The Debian mirror this machine's apt uses for ``SUITE`` main (None: debootstrap's)."""
    if mirror := os.environ.get(MIRROR_ENV):
        return mirror
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(
            [
                *("apt-get", "indextargets", "--format", "$(REPO_URI)", f"Codename: {SUITE}"),
                *("Origin: Debian", "Component: main", "Identifier: Packages"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        for line in found.stdout.splitlines():
            if line.strip().startswith(("http://", "https://")):
                return line.strip()
    return None


def _apt_proxy_env() -> dict[str, str]:
    """``http_proxy`` for debootstrap's wget when apt is configured with a proxy."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proxy = subprocess.run(
            ["apt-config", "shell", "P", "Acquire::http::Proxy"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
        if proxy.startswith("P="):
            env.setdefault("http_proxy", proxy[2:].strip().strip("'"))
    return env


def _check_can_build() -> None:
    if os.geteuid() != 0:
        raise DebianCacheError("building the Debian rootfs needs root (debootstrap, chroot)")
    missing = [t for t in ("debootstrap", "chroot", "dpkg-deb") if not shutil.which(t)]
    if missing:
        raise DebianCacheError(
            f"{', '.join(missing)} not installed (apt-get install debootstrap; "
            "scripts/bootstrap.sh does it when run as root)"
        )


def _chroot_env() -> dict[str, str]:
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
        "LC_ALL": "C",
        "HOME": "/root",
    }


def _installed(rootfs: Path) -> dict[str, str]:
    """package -> version from the rootfs's dpkg status (installed ones only)."""
    found: dict[str, str] = {}
    text = (rootfs / "var/lib/dpkg/status").read_text(errors="replace")
    for stanza in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
        )
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            found[fields["Package"]] = fields.get("Version", "")
    return dict(sorted(found.items()))


def _download_repo(rootfs: Path, repo: Path, packages: Sequence[str], log: Path) -> None:
    """``packages`` and their dependencies missing from the rootfs, as .debs in ``repo``.

    apt inside the fresh rootfs resolves them against what is installed there, from the
    rootfs's own mirror (the one debootstrap used), so every dependency lines up.
    """
    env = _chroot_env()
    base = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "chroot", str(rootfs)]
    _run([*base, "apt-get", "clean"], log, "apt-get clean")  # debootstrap's own .debs
    _run([*base, "apt-get", "-q", "update"], log, "apt-get update in the new rootfs")
    download = ["apt-get", "-q", "-y", "--download-only", "--no-install-recommends", "install"]
    _run(
        [*base, *download, *packages],
        log,
        f"apt-get --download-only install {' '.join(packages)}",
    )
    archives = rootfs / "var/cache/apt/archives"
    repo.mkdir(parents=True, exist_ok=True)
    for deb in sorted(archives.glob("*.deb")):
        shutil.move(str(deb), repo / deb.name)


def _add_local_version(repo: Path, package: str, log: Path, work: Path) -> None:
    """Rebuild ``package``'s .deb with version ``V+opsforge1``: two versions to choose from."""
    debs = sorted(repo.glob(f"{package}_*.deb"))
    if not debs:
        return
    tree = work / f"{package}-local"
    _run(["dpkg-deb", "-R", str(debs[0]), str(tree)], log, f"dpkg-deb -R {debs[0].name}")
    control = tree / "DEBIAN/control"
    lines = control.read_text().splitlines()
    version = next(line.split(": ", 1)[1] for line in lines if line.startswith("Version: "))
    new = version + LOCAL_VERSION_SUFFIX
    control.write_text(
        "\n".join(f"Version: {new}" if line.startswith("Version: ") else line for line in lines)
        + "\n"
    )
    arch = next(line.split(": ", 1)[1] for line in lines if line.startswith("Architecture: "))
    out = repo / f"{package}_{new.split(':')[-1]}_{arch}.deb"
    _run(["dpkg-deb", "-Zxz", "-b", str(tree), str(out)], log, f"dpkg-deb -b {out.name}")
    shutil.rmtree(tree)


def write_repo_index(repo: Path) -> dict[str, tuple[str, ...]]:
    """Write ``Packages``, ``Packages.gz`` and ``Release`` for the .debs in ``repo`` (a flat
    repository: ``deb [trusted=yes] file:REPO ./``); returns package -> versions."""
    stanzas: list[str] = []
    offered: dict[str, list[str]] = {}
    for deb in sorted(repo.glob("*.deb")):
        control = subprocess.run(
            ["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True
        ).stdout.rstrip("\n")
        data = deb.read_bytes()
        fields = {
            "Filename": f"./{deb.name}",
            "Size": str(len(data)),
            "SHA256": hashlib.sha256(data).hexdigest(),
        }
        stanzas.append(control + "\n" + "".join(f"{k}: {v}\n" for k, v in fields.items()))
        head = dict(line.split(": ", 1) for line in control.splitlines() if ": " in line)
        offered.setdefault(head["Package"], []).append(head["Version"])
    packages = "\n".join(stanzas).encode()
    (repo / "Packages").write_bytes(packages)
    (repo / "Packages.gz").write_bytes(gzip.compress(packages, mtime=0))
    sums = {name: (repo / name).read_bytes() for name in ("Packages", "Packages.gz")}
    release = [
        "Origin: opsforge-test",
        "Label: opsforge-test",
        "Suite: opsforge-test",
        "Codename: opsforge-test",
        "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()),
        "Description: local packages for opsforge's Debian test hosts",
        "SHA256:",
        *(f" {hashlib.sha256(d).hexdigest()} {len(d)} {n}" for n, d in sums.items()),
    ]
    (repo / "Release").write_text("\n".join(release) + "\n")
    for path in repo.iterdir():
        path.chmod(0o644)
    repo.chmod(0o755)
    return {name: tuple(_sort_versions(versions)) for name, versions in sorted(offered.items())}


def _sort_versions(versions: list[str]) -> list[str]:
    """Ascending by dpkg's rules (``dpkg --compare-versions``)."""
    ordered: list[str] = []
    for version in versions:
        at = len(ordered)
        for i, other in enumerate(ordered):
            cmd = ["dpkg", "--compare-versions", version, "lt", other]
            lower = subprocess.run(cmd, check=False).returncode
            if lower == 0:
                at = i
                break
        ordered.insert(at, version)
    return ordered


def _finish_rootfs(rootfs: Path, log: Path) -> None:
    """What every host shares: the local repo as the only apt source, nothing per-host."""
    base = ["env", "-i", *(f"{k}={v}" for k, v in _chroot_env().items()), "chroot", str(rootfs)]
    _run([*base, "apt-get", "clean"], log, "apt-get clean")
    shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
    (rootfs / "etc/apt/sources.list").write_text("deb [trusted=yes] file:/srv/repo ./\n")
    for extra in (rootfs / "etc/apt/sources.list.d").glob("*"):
        extra.unlink()
    # per-host: written when a host starts
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    for name in ("etc/hostname", "etc/resolv.conf", "usr/sbin/policy-rc.d"):
        (rootfs / name).unlink(missing_ok=True)
    (rootfs / "etc/resolv.conf").write_text("# no DNS inside opsforge's Debian test hosts\n")
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "srv/repo").mkdir(parents=True, exist_ok=True)


def _tree_size(path: Path) -> int:
    total = 0
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(top, name)).st_blocks * 512
    return total


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_cache(entry: Path) -> DebianCache | None:
    """The finished cache entry at ``entry`` (``.../rootfs-bookworm-HASH``), or None."""
    try:
        data = json.loads((entry / "manifest.json").read_text())
        return DebianCache(
            path=entry,
            suite=str(data["suite"]),
            include=tuple(data["include"]),
            repo_packages={k: tuple(v) for k, v in data["repo_packages"].items()},
            installed=dict(data["installed"]),
            build_seconds=float(data["build_seconds"]),
            size_bytes=int(data["size_bytes"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remove_stale_builds(base: Path, key: str) -> None:
    """Temporary build directories of builds that died (their PID is gone)."""
    for tmp in base.glob(f".tmp-{key}-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or _start_ticks(int(pid)) is None or int(pid) == os.getpid():
            shutil.rmtree(tmp, ignore_errors=True)


def _build(entry: Path, suite: str, include: Sequence[str], repo_packages: Sequence[str]) -> None:
    base, key = entry.parent, entry.name.rsplit("-", 1)[-1]
    log = base / f"build-{key}.log"
    log.write_text("")
    tmp = base / f".tmp-{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    started = time.monotonic()
    try:
        cmd = ["debootstrap", "--variant=minbase", "--components=main"]
        cmd += [f"--include={','.join(include)}", suite, str(tmp / "rootfs")]
        if mirror := _apt_mirror():
            cmd.append(mirror)
        _run(cmd, log, f"debootstrap {suite}", env=_apt_proxy_env())
        rootfs, repo = tmp / "rootfs", tmp / "repo"
        _download_repo(rootfs, repo, repo_packages, log)
        if LOCAL_VERSION_OF in repo_packages:
            _add_local_version(repo, LOCAL_VERSION_OF, log, tmp)
        offered = write_repo_index(repo)
        _finish_rootfs(rootfs, log)
        manifest = {
            "suite": suite,
            "include": list(include),
            "repo_request": list(repo_packages),
            "repo_packages": offered,
            "installed": _installed(rootfs),
            "build_seconds": round(time.monotonic() - started, 1),
            "size_bytes": _tree_size(tmp),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        os.rename(tmp, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_cache(
    base: Path | None = None,
    *,
    suite: str = SUITE,
    include: Sequence[str] = DEFAULT_INCLUDE,
    repo_packages: Sequence[str] = DEFAULT_REPO_PACKAGES,
) -> DebianCache:
    """The cached rootfs + repository for this package list, built now if missing.

    Raises :class:`DebianCacheError` saying why when it cannot be built here (not root,
    debootstrap missing, the mirror unreachable, ...).
    """
    base = Path(base) if base is not None else cache_base()
    key = cache_key(suite, include, repo_packages)
    entry = base / f"rootfs-{suite}-{key}"
    if (found := load_cache(entry)) is not None:
        return found
    _check_can_build()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DebianCacheError(f"cannot create the cache directory {base}: {exc}") from None
    with _locked(base / f".lock-{key}"):
        if (found := load_cache(entry)) is not None:
            return found  # another process built it while this one waited
        _remove_stale_builds(base, key)
        if entry.exists():
            shutil.rmtree(entry)  # no manifest: not a finished build
        _build(entry, suite, include, repo_packages)
    built = load_cache(entry)
    if built is None:
        raise DebianCacheError(f"the build left no readable manifest in {entry}")
    return DebianCache(
        path=built.path,
        suite=built.suite,
        include=built.include,
        repo_packages=built.repo_packages,
        installed=built.installed,
        build_seconds=built.build_seconds,
        size_bytes=built.size_bytes,
        built_now=True,
    )
