"""Running inside a CI system: detect it from its environment and speak its log dialect.

========== ================================ =============================================
 system     detected by                      conventions used
========== ================================ =============================================
 github     ``GITHUB_ACTIONS=true``          ``::group::``/``::endgroup::``,
                                             ``::error file=F,line=L::msg``,
                                             ``::warning::``, ``::add-mask::value``
 gitlab     ``GITLAB_CI=true``               collapsible sections (``section_start:`` /
                                             ``section_end:``), errors in red
 circleci   ``CIRCLECI=true``                plain lines (steps are its sections)
 jenkins    ``JENKINS_URL`` (or              plain lines (``ERROR:``/``WARNING:``
            ``JENKINS_HOME`` + ``BUILD_ID``) prefixes, which the warnings plugin parses)
========== ================================ =============================================

:func:`detect` returns a :class:`CISystem` (or None outside CI); its methods return
the exact text to print, so a renderer decides where it goes. Secrets are masked by
opsforge itself everywhere; ``mask`` additionally tells the CI system (GitHub only:
the others mask only variables configured in their settings).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["CISystem", "detect"]

_GITLAB_SECTION = re.compile(r"[^A-Za-z0-9_.-]")


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True, slots=True)
class CISystem:
    """The CI system opsforge runs in, with what it tells about the build."""

    name: str  # github / gitlab / circleci / jenkins
    branch: str | None = None
    commit: str | None = None
    build_url: str | None = None
    job: str | None = None

    # -- sections ---------------------------------------------------------------------
    def group_start(self, title: str, *, collapsed: bool = True, now: float | None = None) -> str:
        """The line that opens a foldable section (``""`` where the system has none)."""
        if self.name == "github":
            return f"::group::{_gh_data(title)}"
        if self.name == "gitlab":
            stamp = int(now if now is not None else time.time())
            option = "[collapsed=true]" if collapsed else ""
            section = self.section_name(title)
            return f"\x1b[0Ksection_start:{stamp}:{section}{option}\r\x1b[0K{title}"
        return f"--- {title}"

    def group_end(self, title: str, *, now: float | None = None) -> str:
        if self.name == "github":
            return "::endgroup::"
        if self.name == "gitlab":
            stamp = int(now if now is not None else time.time())
            return f"\x1b[0Ksection_end:{stamp}:{self.section_name(title)}\r\x1b[0K"
        return ""

    @staticmethod
    def section_name(title: str) -> str:
        """A GitLab section name: letters, digits, ``_ . -`` only, never empty."""
        return _GITLAB_SECTION.sub("_", title)[:100] or "section"

    # -- annotations --------------------------------------------------------------------
    def _annotation(
        self, level: str, message: str, path: str | None, line: int | None, title: str | None
    ) -> str:
        if self.name == "github":
            props = []
            if path:
                props.append(f"file={_gh_property(path)}")
                if line is not None:
                    props.append(f"line={line}")
            if title:
                props.append(f"title={_gh_property(title)}")
            head = f"::{level} {','.join(props)}" if props else f"::{level}"
            return f"{head}::{_gh_data(message)}"
        where = f"{path}:{line}: " if path and line is not None else f"{path}: " if path else ""
        text = f"{level.upper()}: {where}{message}"
        if self.name == "gitlab":
            colour = "31" if level == "error" else "33"
            return f"\x1b[{colour};1m{text}\x1b[0m"
        return text

    def error(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> str:
        return self._annotation("error", message, path, line, title)

    def warning(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> str:
        return self._annotation("warning", message, path, line, title)

    def mask(self, value: str) -> str | None:
        """The line that makes the CI system mask ``value`` too, or None (not possible)."""
        if self.name == "github" and value:
            return f"::add-mask::{_gh_data(value)}"
        return None


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        if env.get(name):
            return env[name]
    return None


def detect(env: Mapping[str, str] | None = None) -> CISystem | None:
    """The CI system whose variables are in ``env`` (default: this process's), or None."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        url = None
        if env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
            url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
        return CISystem(
            "github",
            _first(env, "GITHUB_HEAD_REF", "GITHUB_REF_NAME"),
            env.get("GITHUB_SHA"),
            url,
            env.get("GITHUB_JOB"),
        )
    if env.get("GITLAB_CI") == "true":
        return CISystem(
            "gitlab",
            _first(
                env, "CI_COMMIT_BRANCH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME"
            ),
            env.get("CI_COMMIT_SHA"),
            env.get("CI_JOB_URL"),
            env.get("CI_JOB_NAME"),
        )
    if env.get("CIRCLECI") == "true":
        return CISystem(
            "circleci",
            env.get("CIRCLE_BRANCH"),
            env.get("CIRCLE_SHA1"),
            env.get("CIRCLE_BUILD_URL"),
            env.get("CIRCLE_JOB"),
        )
    if env.get("JENKINS_URL") or (env.get("JENKINS_HOME") and env.get("BUILD_ID")):
        branch = _first(env, "BRANCH_NAME", "GIT_BRANCH")
        return CISystem(
            "jenkins", branch, env.get("GIT_COMMIT"), env.get("BUILD_URL"), env.get("JOB_NAME")
        )
    return None
