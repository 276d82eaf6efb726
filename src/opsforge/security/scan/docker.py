"""Dockerfile checks: root user, ``latest``/untagged images, ``curl | sh``,
secrets in ENV/ARG, ADD from a URL.

The Dockerfile is split into instructions (line continuations joined, comments
dropped, each instruction keeping the line it starts on); checks read the
instructions of each build stage. Only the final stage decides the user the
container runs as.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import partial

from opsforge.security.findings import Finding, Location, Severity
from opsforge.security.scan.config_rules import config_check

__all__ = ["PIPE_TO_SHELL", "is_dockerfile", "scan_dockerfile"]

#: ``curl ... | sh`` and friends (shared with the CI checks).
PIPE_TO_SHELL = re.compile(
    r"\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|da|k)?sh\b"
    r"|\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?python[0-9.]*\b"
)
_SECRET_NAME = re.compile(
    r"(?i)passw|pwd|secret|token|api_?key|access_?key|private_?key|credential|auth"
)


_check = partial(config_check, tag="docker")


ROOT_USER = _check(
    "docker.root-user", "Container runs as root", Severity.MEDIUM,
    "A process running as root in the container is root on the host if it breaks out, and "
    "can change everything inside the image.",
    "Create an unprivileged user and switch to it in the final stage: "
    "RUN useradd -r app && ... then USER app.",
)  # fmt: skip
LATEST_TAG = _check(
    "docker.latest-tag", "Base image not pinned (latest or no tag)", Severity.LOW,
    "FROM image:latest (or no tag) builds from whatever the tag points at today: builds are "
    "not reproducible and can pull in a compromised or broken image.",
    "Pin a version tag, better a digest: FROM python:3.12-slim@sha256:...",
)  # fmt: skip
PIPE_SHELL = _check(
    "docker.curl-pipe-shell", "Downloaded script piped into a shell", Severity.HIGH,
    "curl | sh runs whatever the server (or anyone on the path) sends, unreviewed and "
    "unverified, as the build user.",
    "Download to a file, verify its checksum or signature, then run it; or install a package.",
)  # fmt: skip
SECRET_IN_ENV = _check(
    "docker.secret-in-env", "Secret passed through ENV or ARG", Severity.HIGH,
    "ENV and ARG values are stored in the image metadata and layer history "
    "(docker history shows them) for everyone who can pull the image.",
    "Use build secrets (RUN --mount=type=secret) and runtime secrets/env, never ENV/ARG.",
)  # fmt: skip
ADD_URL = _check(
    "docker.add-from-url", "ADD fetches a remote URL", Severity.MEDIUM,
    "ADD <url> downloads without any integrity check (and keeps the file in a layer).",
    "Use RUN curl -fsSLo file URL && echo 'SHA256  file' | sha256sum -c - (or ADD --checksum).",
)  # fmt: skip


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str
    text: str


def is_dockerfile(rel: str) -> bool:
    name = os.path.basename(rel)
    lowered = name.lower()
    return (
        lowered in {"dockerfile", "containerfile"}
        or lowered.startswith(("dockerfile.", "containerfile."))
        or lowered.endswith((".dockerfile", ".containerfile"))
    )


def parse_instructions(text: str) -> list[Instruction]:
    result: list[Instruction] = []
    pending: list[str] = []
    start = 0
    escape = "`" if re.search(r"(?im)^#\s*escape\s*=\s*`", text[:200]) else "\\"
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith(escape):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        joined = " ".join(part for part in pending if part)
        pending = []
        keyword, _, args = joined.partition(" ")
        result.append(Instruction(start, keyword.upper(), args.strip(), joined))
    if pending:
        joined = " ".join(pending)
        keyword, _, args = joined.partition(" ")
        result.append(Instruction(start, keyword.upper(), args.strip(), joined))
    return result


def _image_of(args: str) -> tuple[str, str | None]:
    words = [w for w in args.split() if not w.startswith("--")]
    image = words[0] if words else ""
    alias = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
    return image, alias


def _unpinned(image: str, stages: set[str]) -> bool:
    if not image or image.lower() in stages or image == "scratch" or "$" in image:
        return False
    if "@sha256:" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def _user_is_root(args: str) -> bool:
    user = args.split(":", 1)[0].strip()
    return user in {"root", "0"}


def scan_dockerfile(rel: str, text: str) -> list[Finding]:
    findings: list[Finding] = []
    stages: set[str] = set()
    final_from: Instruction | None = None
    final_user: Instruction | None = None

    def at(inst: Instruction) -> Location:
        return Location(path=rel, line=inst.line, snippet=inst.text[:300])

    for inst in parse_instructions(text):
        if inst.keyword == "FROM":
            image, alias = _image_of(inst.args)
            if _unpinned(image, stages):
                findings.append(LATEST_TAG.at(at(inst), message=f"FROM {image} is not pinned"))
            if alias:
                stages.add(alias)
            final_from, final_user = inst, None
        elif inst.keyword == "USER":
            final_user = inst
        elif inst.keyword == "RUN" and PIPE_TO_SHELL.search(inst.args):
            findings.append(PIPE_SHELL.at(at(inst)))
        elif inst.keyword in {"ENV", "ARG"}:
            findings.extend(_secret_vars(inst, Location(path=rel, line=inst.line)))
        elif inst.keyword == "ADD" and re.search(r"(?:^|\s)(?:https?|ftp)://", inst.args):
            findings.append(ADD_URL.at(at(inst)))
    if final_from is not None:
        if final_user is None:
            findings.append(
                ROOT_USER.at(at(final_from), message="the final stage has no USER instruction")
            )
        elif _user_is_root(final_user.args):
            findings.append(ROOT_USER.at(at(final_user), message=f"USER {final_user.args}"))
    return findings


def _secret_vars(inst: Instruction, location: Location) -> list[Finding]:
    args = inst.args
    if "=" in args:
        pairs = re.findall(r"([A-Za-z_][A-Za-z0-9_.-]*)=(\"[^\"]*\"|'[^']*'|\S*)", args)
    else:  # legacy "ENV NAME value" / "ARG NAME"
        name, _, value = args.partition(" ")
        pairs = [(name, value)]
    found = []
    for name, value in pairs:
        value = value.strip("\"'")
        if not _SECRET_NAME.search(name):
            continue
        if inst.keyword == "ENV" and (not value or value.startswith("$")):
            continue  # ENV TOKEN=$TOKEN is flagged at its ARG
        redacted = f"{inst.keyword} {name}" + ("=****" if value else "")
        found.append(
            SECRET_IN_ENV.at(
                Location(path=location.path, line=location.line, snippet=redacted),
                message=f"{inst.keyword} {name} holds a secret in the image metadata",
                key=f"{inst.keyword} {name}",
            )
        )
    return found
