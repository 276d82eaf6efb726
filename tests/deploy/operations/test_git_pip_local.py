"""git and pip for real, on this machine, without the network: a bare repository made in
tmp_path is cloned, updated to tags, branches and commits; a virtualenv in tmp_path gets
wheels built by the test. Each step: gather facts (one round trip), plan, apply in one
script, then plan again and expect a no-op — and the prediction (``facts_after``) must
match what the facts say after the apply."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from opsforge.connectors.local import LocalConnector
from opsforge.deploy.context import HostContext
from opsforge.deploy.facts.base import FactCache
from opsforge.deploy.facts.git import GitCheckout, GitInfo
from opsforge.deploy.facts.packages_pip import PipPackages
from opsforge.deploy.operation import Change, Operation
from opsforge.deploy.operations import git, packages
from opsforge.errors import PlanError
from opsforge.types import HostSpec

from .conftest import apply, gather_and_plan, plan_env

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def declare(build: Callable[[HostContext], Any]) -> list[Operation]:
    host = HostContext(name="local", vars={}, groups=(), _cache=FactCache("local"))
    build(host)
    return [d.op for d in host.declared]


def converge(tmp_path: Path, build: Callable[[HostContext], Any]) -> tuple[list[Change], FactCache]:
    """Plan and apply ``build``'s operations; return the changes and the facts gathered
    again after the apply."""

    async def main() -> tuple[list[Change], FactCache]:
        ops = declare(build)
        env = plan_env(tmp_path, host="local")
        async with LocalConnector(HostSpec("local", connector="local")) as conn:
            changes, _ = await gather_and_plan(conn, ops, env)
            results = await apply(conn, changes)
            for result in results:
                assert result.exit_code == 0, result.output
            fresh = FactCache("local")
            await fresh.gather(conn, [f for op in ops for f in op.facts()])
        return changes, fresh

    return asyncio.run(main())


def plan_only(tmp_path: Path, build: Callable[[HostContext], Any]) -> list[Change]:
    async def main() -> list[Change]:
        env = plan_env(tmp_path, host="local")
        async with LocalConnector(HostSpec("local", connector="local")) as conn:
            changes, _ = await gather_and_plan(conn, declare(build), env)
        return changes

    return asyncio.run(main())


# ---- git ---------------------------------------------------------------------------------


def sh(*args: str, cwd: Path) -> str:
    return subprocess.run(
        args, cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> dict[str, str]:
    """A bare repository: main (3 commits), annotated tag v1, lightweight tag v2, branch
    feature. Returns the path and the commit ids."""
    bare = tmp_path / "origin repo.git"
    work = tmp_path / "work"
    sh("git", "init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    sh("git", "init", "-q", "-b", "main", str(work), cwd=tmp_path)
    ids: dict[str, str] = {"repo": str(bare)}
    for number in (1, 2, 3):
        (work / "app.txt").write_text(f"version {number}\n")
        sh("git", "add", "app.txt", cwd=work)
        sh("git", "commit", "-q", "-m", f"commit {number}", cwd=work)
        ids[f"c{number}"] = sh("git", "rev-parse", "HEAD", cwd=work)
        if number == 1:
            sh("git", "tag", "-a", "v1", "-m", "release 1", cwd=work)
        if number == 2:
            sh("git", "tag", "v2", cwd=work)
            sh("git", "branch", "feature", cwd=work)
    sh("git", "remote", "add", "origin", str(bare), cwd=work)
    sh("git", "push", "-q", "origin", "main", "feature", "--tags", cwd=work)
    return ids


def _head(dest: Path) -> str:
    return sh("git", "rev-parse", "HEAD", cwd=dest)


def _same_prediction(change: Change, fresh: FactCache) -> None:
    """What the plan predicted for the checkout is what is there now (the remote part
    aside: it is only looked up when needed)."""
    for fact, predicted in change.facts_after:
        if isinstance(fact, GitCheckout):
            actual = fresh.get(fact)
            assert isinstance(predicted, GitInfo)
            assert replace(predicted, remote=None) == replace(actual, remote=None)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_clone_update_and_idempotence(tmp_path: Path, origin: dict[str, str]) -> None:
    dest = tmp_path / "checkout ü"
    repo = origin["repo"]

    def at(version: str, **kw: Any) -> Callable[[HostContext], Any]:
        return lambda h: git.git(h, repo, str(dest), version=version, **kw)

    # clone at an annotated tag: detached at the tagged commit
    (change,), fresh = converge(tmp_path, at("v1"))
    assert change.reports_changed
    assert _head(dest) == origin["c1"]
    assert (dest / "app.txt").read_text() == "version 1\n"
    _same_prediction(change, fresh)
    (again,) = plan_only(tmp_path, at("v1"))
    assert again.is_noop
    assert "is at v1" in again.reason

    # update to a lightweight tag, then to the remote's default branch (HEAD: main)
    (change,), fresh = converge(tmp_path, at("v2"))
    assert _head(dest) == origin["c2"]
    _same_prediction(change, fresh)
    (change,), fresh = converge(tmp_path, at("HEAD"))
    assert _head(dest) == origin["c3"]
    assert sh("git", "symbolic-ref", "--short", "HEAD", cwd=dest) == "main"
    _same_prediction(change, fresh)
    assert plan_only(tmp_path, at("HEAD"))[0].is_noop
    assert plan_only(tmp_path, at("main"))[0].is_noop

    # another branch, then a full commit id (no remote lookup needed to see it is there)
    (change,), fresh = converge(tmp_path, at("feature"))
    assert _head(dest) == origin["c2"]
    assert sh("git", "symbolic-ref", "--short", "HEAD", cwd=dest) == "feature"
    _same_prediction(change, fresh)
    (change,), _ = converge(tmp_path, at(origin["c1"]))
    assert _head(dest) == origin["c1"]
    assert plan_only(tmp_path, at(origin["c1"]))[0].is_noop
    assert plan_only(tmp_path, at(origin["c1"][:10]))[0].is_noop

    # local modifications stop an update unless force discards them
    (dest / "app.txt").write_text("edited on the host\n")
    with pytest.raises(PlanError, match="has local modifications"):
        plan_only(tmp_path, at("main"))
    (change,), fresh = converge(tmp_path, at("main", force=True))
    assert _head(dest) == origin["c3"]
    assert (dest / "app.txt").read_text() == "version 3\n"
    _same_prediction(change, fresh)
    assert plan_only(tmp_path, at("main"))[0].is_noop

    # update=False leaves the checkout alone; an unknown ref is refused while planning
    assert plan_only(tmp_path, at("v1", update=False))[0].is_noop
    with pytest.raises(PlanError, match="no branch or tag nope"):
        plan_only(tmp_path, at("nope"))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_shallow_clone_into_an_empty_directory(tmp_path: Path, origin: dict[str, str]) -> None:
    dest = tmp_path / "shallow"
    dest.mkdir()

    def build(h: HostContext) -> None:  # file://: git ignores --depth for plain local paths
        git.git(h, Path(origin["repo"]).as_uri(), str(dest), version="main", depth=1)

    (change,), _ = converge(tmp_path, build)
    assert change.reports_changed
    assert sh("git", "rev-list", "--count", "HEAD", cwd=dest) == "1"
    assert _head(dest) == origin["c3"]
    assert plan_only(tmp_path, build)[0].is_noop


def test_git_refuses_a_directory_that_is_not_a_checkout(tmp_path: Path) -> None:
    dest = tmp_path / "full"
    dest.mkdir()
    (dest / "file").write_text("x")
    with pytest.raises(PlanError, match="is not a git checkout"):
        plan_only(tmp_path, lambda h: git.git(h, str(tmp_path / "x.git"), str(dest)))


# ---- pip ---------------------------------------------------------------------------------


def make_wheel(folder: Path, name: str, version: str) -> Path:
    """A pure-Python wheel written by hand (no build backend, no network)."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: opsforge-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def _venv_works() -> bool:
    python = shutil.which("python3")
    if python is None:
        return False
    probe = subprocess.run([python, "-c", "import ensurepip, venv"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _venv_works(), reason="python3 with venv and ensurepip is needed")
def test_pip_into_a_new_virtualenv_from_local_wheels(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "demo_pkg", "1.0")
    make_wheel(wheels, "demo_pkg", "2.0")
    venv = str(tmp_path / "venv")
    offline = f"--no-index --find-links {wheels}"

    def pip(*specs: str, **kw: Any) -> Callable[[HostContext], Any]:
        return lambda h: packages.pip(h, list(specs), virtualenv=venv, extra_args=offline, **kw)

    def installed() -> dict[str, str]:
        return dict(asyncio.run(_freeze(venv)).packages)

    # the virtualenv is created, then the pinned version installed
    (change,), fresh = converge(tmp_path, pip("demo-pkg==1.0"))
    assert [d.label for d in change.diff][:1] == [venv]
    assert installed()["demo-pkg"] == "1.0"
    assert fresh.get(PipPackages(venv)).packages["demo-pkg"] == "1.0"
    (again,) = plan_only(tmp_path, pip("demo-pkg==1.0"))
    assert again.is_noop
    assert "demo-pkg 1.0" in again.reason
    assert plan_only(tmp_path, pip("Demo_Pkg>=1,<2"))[0].is_noop

    # latest asks pip (offline, from the wheel folder) and upgrades
    (change,), fresh = converge(tmp_path, pip("demo-pkg", state="latest"))
    assert [[d.label, d.before, d.after] for d in change.diff] == [["demo-pkg", "1.0", "2.0"]]
    assert installed()["demo-pkg"] == "2.0"
    assert dict(change.facts_after)[PipPackages(venv)] == fresh.get(PipPackages(venv))
    assert plan_only(tmp_path, pip("demo-pkg", state="latest"))[0].is_noop

    # a wheel path: pip decides; the same file again is a no-op
    wheel = str(wheels / "demo_pkg-1.0-py3-none-any.whl")
    (change,), _ = converge(tmp_path, pip(wheel))
    assert installed()["demo-pkg"] == "1.0"
    assert plan_only(tmp_path, pip(wheel))[0].is_noop

    # a requirements file on the host, satisfied
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("demo-pkg==1.0\n")
    (change,) = plan_only(
        tmp_path,
        lambda h: packages.pip(
            h, requirements=str(requirements), virtualenv=venv, extra_args=offline
        ),
    )
    assert change.is_noop

    # absent uninstalls, and then there is nothing to do
    (change,), _ = converge(tmp_path, pip("demo-pkg", state="absent"))
    assert "demo-pkg" not in installed()
    assert plan_only(tmp_path, pip("demo-pkg", state="absent"))[0].is_noop


async def _freeze(venv: str) -> Any:
    cache = FactCache("local")
    async with LocalConnector(HostSpec("local", connector="local")) as conn:
        await cache.gather(conn, [PipPackages(venv)])
    return cache.get(PipPackages(venv))
