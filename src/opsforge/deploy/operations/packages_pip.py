"""pip: Python packages in a virtualenv (created when missing) or a given pip.

Plain named requirements (``requests``, ``flask>=3,<4``, ``Django==4.2.*``) are
decided from the installed versions alone. For what the installed versions cannot
answer — ``state="latest"``, a ``requirements`` file, paths and URLs — the plan
asks pip itself (``pip install --dry-run --report``) while reading facts, so an
install that would change nothing is a no-op with its reason.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, quote
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.packages_pip import PipDryRun, PipEnv, PipPackages, pip_command
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.packages_versions import Requirement, normalize, satisfies
from opsforge.errors import InputError, PlanError

__all__ = ["Pip"]

STATES = ("present", "absent", "latest", "forcereinstall")


@dataclass(frozen=True)
class Pip(Operation):
    packages: tuple[str, ...] = ()
    state: str = "present"
    virtualenv: str | None = None
    virtualenv_command: str = "python3 -m venv"
    virtualenv_site_packages: bool = False
    requirements: str | None = None
    executable: str | None = None
    extra_args: str = ""
    chdir: str | None = None

    kind: ClassVar[str] = "packages.pip"

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise InputError(f"pip: unknown state {self.state!r} (one of {', '.join(STATES)})")
        if not self.packages and not self.requirements:
            raise InputError("pip: give packages or requirements")
        if self.virtualenv and self.executable:
            raise InputError("pip: virtualenv and executable are mutually exclusive")
        for path, what in ((self.virtualenv, "virtualenv"), (self.chdir, "chdir")):
            if path is not None and not path.startswith("/"):
                raise InputError(f"pip: {what} must be an absolute path, got {path!r}")
        if self.state == "absent":
            if self.requirements:
                raise InputError("pip: state=absent takes package names, not requirements")
            odd = [p for p in self.packages if Requirement.parse(p) is None]
            if odd:
                raise InputError(f"pip: state=absent takes package names, got {odd[0]!r}")
        try:
            shlex.split(self.extra_args)
        except ValueError as exc:
            raise InputError(f"pip: extra_args: {exc}") from None

    def describe(self) -> str:
        what = ", ".join(self.packages) or f"-r {self.requirements}"
        where = f" in {self.virtualenv}" if self.virtualenv else ""
        verb = {"present": "install", "absent": "uninstall", "latest": "upgrade"}.get(
            self.state, "reinstall"
        )
        return f"pip {verb} {what}{where}"

    # ---- what needs pip's own answer --------------------------------------------------

    def _named(self) -> list[Requirement]:
        return [r for r in map(Requirement.parse, self.packages) if r is not None]

    def _others(self) -> list[str]:
        """Specs that are not plain named requirements (paths, URLs, markers)."""
        return [p for p in self.packages if Requirement.parse(p) is None]

    def _install_args(self, specs: list[str], upgrade: bool) -> str:
        words = [quote(s) for s in specs]
        if self.requirements:
            words += ["-r", quote(self.requirements)]
        flags = (["-U"] if upgrade else []) + ([self.extra_args] if self.extra_args else [])
        return " ".join([*flags, *words])

    def _dry_run(self) -> PipDryRun | None:
        if self.state == "latest":
            args = self._install_args(list(self.packages), upgrade=True)
        elif self.state == "present" and (self.requirements or self._others()):
            args = self._install_args(self._others(), upgrade=False)
        else:
            return None
        return PipDryRun(args, self.virtualenv, self.executable, self.chdir)

    def facts(self) -> tuple[Fact[Any], ...]:
        found: list[Fact[Any]] = [PipPackages(self.virtualenv, self.executable)]
        dry = self._dry_run()
        if dry is not None:
            found.append(dry)
        return tuple(found)

    # ---- plan ---------------------------------------------------------------------------

    def _pip(self, verb: str, *words: str) -> Command:
        pip = pip_command(self.virtualenv, self.executable)
        quiet = ["-q", "--disable-pip-version-check", "--no-input"]
        line = " ".join([pip, verb, *quiet, *(w for w in words if w)])
        if self.chdir:
            line = f"cd {quote(self.chdir)} && {line}"
        return Command(line)

    def _install(self, specs: list[str], upgrade: bool = False, force: bool = False) -> Command:
        args = self._install_args(specs, upgrade)
        return self._pip("install", *(["--force-reinstall"] if force else []), args)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        current = facts.get(PipPackages(self.virtualenv, self.executable))
        if not current.exists:
            if not self.virtualenv:
                pip = pip_command(None, self.executable)
                raise PlanError(f"pip: {pip.split()[0]} not found", host=env.host)
            return self._create()
        if current.pip_error:
            raise PlanError(f"pip does not work there: {current.pip_error}", host=env.host)
        if self.state == "absent":
            return self._uninstall(current)
        if self.state == "forcereinstall":
            specs = list(self.packages)
            again = [DiffItem(p, current.packages.get(_key(p)), "reinstalled") for p in specs]
            return Change((self._install(specs, force=True),), tuple(again))
        named = self._named() if self.state == "present" else []
        missing = [r for r in named if not _has(current, r)]
        diff = [DiffItem(str(r), current.packages.get(r.key), _exact(r) or str(r)) for r in missing]
        after = dict(current.packages)
        for r in missing:
            after[r.key] = _exact(r) or ""
        asked = [str(r) for r in missing]
        dry = self._dry_run()
        if dry is not None:
            planned = facts.get(dry)
            if planned.error:
                raise PlanError(f"pip: {planned.error}", host=env.host)
            for name, version in planned.install:
                if name not in {r.key for r in missing}:
                    diff.append(DiffItem(name, current.packages.get(name), version))
                after[name] = version
            if planned.install:
                asked = list(self.packages) if self.state == "latest" else asked + self._others()
        if not asked and not (dry is not None and facts.get(dry).install):
            return Change.noop(self._noop_reason(current))
        actions: list[Command] = []
        if asked or self.requirements:
            actions.append(self._install(asked, upgrade=self.state == "latest"))
        return Change(
            tuple(actions), tuple(diff), facts_after=((self._fact(), PipEnv(True, after)),)
        )

    def _fact(self) -> PipPackages:
        return PipPackages(self.virtualenv, self.executable)

    def _noop_reason(self, current: PipEnv) -> str:
        shown = [f"{r.name} {current.packages[r.key]}" for r in self._named()]
        if self.state == "latest":
            return "newest versions installed" + (f": {', '.join(shown)}" if shown else "")
        extra = [*self._others(), *([f"-r {self.requirements}"] if self.requirements else [])]
        return "installed: " + ", ".join([*shown, *(f"{e} (satisfied)" for e in extra)])

    def _create(self) -> Change:
        venv = self.virtualenv or ""
        if self.state == "absent":
            return Change.noop(f"virtualenv {venv} does not exist")
        words = [self.virtualenv_command]
        if self.virtualenv_site_packages:
            words.append("--system-site-packages")
        actions = [Command(" ".join([*words, quote(venv)]))]
        diff = [DiffItem(venv, None, "virtualenv")]
        actions.append(self._install(list(self.packages), upgrade=self.state == "latest"))
        after: dict[str, str] = {}
        for spec in self.packages:
            req = Requirement.parse(spec)
            diff.append(DiffItem(spec, None, (_exact(req) if req else None) or "installed"))
            if req is not None:
                after[req.key] = _exact(req) or ""
        if self.requirements:
            diff.append(DiffItem(f"-r {self.requirements}", None, "installed"))
        return Change(
            tuple(actions), tuple(diff), facts_after=((self._fact(), PipEnv(True, after)),)
        )

    def _uninstall(self, current: PipEnv) -> Change:
        present = [p for p in self.packages if _key(p) in current.packages]
        if not present:
            return Change.noop(f"not installed: {', '.join(self.packages)}")
        names = [Requirement.parse(p).name for p in present]  # type: ignore[union-attr]
        after = {k: v for k, v in current.packages.items() if k not in {_key(p) for p in present}}
        diff = tuple(DiffItem(n, current.packages[normalize(n)], None) for n in names)
        action = self._pip("uninstall", "-y", *(quote(n) for n in names))
        return Change((action,), diff, facts_after=((self._fact(), PipEnv(True, after)),))


def _key(spec: str) -> str:
    req = Requirement.parse(spec)
    return req.key if req else spec


def _exact(req: Requirement) -> str | None:
    """The version a requirement pins exactly (``==1.2``), else None."""
    if len(req.specifiers) == 1 and req.specifiers[0][0] in ("==", "==="):
        version = req.specifiers[0][1]
        return None if version.endswith(".*") else version
    return None


def _has(env: PipEnv, req: Requirement) -> bool:
    version = env.packages.get(req.key)
    if version is None:
        return False
    return version == "" or satisfies(version, req)  # "": installed earlier in this run
