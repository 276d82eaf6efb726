"""A canary secret, planted as a vault value and as inventory secrets, must not appear in
any output stream of exec/apply/audit/harden/inventory (text and JSON), nor in any file
under the state directory (run logs, history) — neither as is nor base64-encoded.
A pipeline's masked variable (``--secret``) gets the same treatment: its job logs, run
directory, events and history."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from opsforge.testing import LabInfo, SSHLab
from opsforge.vault import encrypt_bytes

VAULT_PASSWORD = "canary-vault-password"


@pytest.fixture(scope="module")
def canary_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    with SSHLab(tmp_path_factory.mktemp("canarylab"), 1) as info:
        yield info


def _forms(value: str) -> list[bytes]:
    raw = value.encode()
    b64 = base64.b64encode(raw)
    # base64 of the value inside a longer text: any of its three alignments
    shifted = [base64.b64encode(pad + raw)[4:-4] for pad in (b"", b"x", b"xx")]
    return [raw, b64.rstrip(b"="), *shifted]


def test_canary_never_leaks(canary_lab: LabInfo, tmp_path: Path) -> None:
    vault_canary = "opsforge-canary-" + secrets.token_hex(8)
    password_canary = "opsforge-canary-" + secrets.token_hex(8)
    vaulted = encrypt_bytes(vault_canary.encode(), VAULT_PASSWORD).decode()
    inventory = yaml.safe_load(canary_lab.inventory_path.read_text())
    host = inventory["all"]["hosts"]["lab1"]
    host["app_token"] = "VAULTED"
    host["ansible_become_password"] = password_canary
    host["ansible_password"] = password_canary
    text = yaml.safe_dump(inventory).replace("VAULTED", "!vault |\n" + _indent(vaulted, 8))
    inv = tmp_path / "inventory.yml"
    inv.write_text(text)
    remote = tmp_path / "remote"
    remote.mkdir()
    token_file = remote / "token.conf"
    deploy = tmp_path / "deploy.py"
    deploy.write_text(
        "from opsforge.deploy import files\n\n"
        "def deploy(host):\n"
        f"    files.copy(host, dest={str(token_file)!r}, content=host.vars['app_token'],"
        " mode='0600')\n"
        f"    files.line(host, {str(remote / 'app.env')!r},"
        " 'TOKEN=' + host.vars['app_token'].reveal(), regexp='^TOKEN=')\n"
    )
    state = tmp_path / "state"
    env = dict(
        os.environ,
        OPSFORGE_STATE_DIR=str(state),
        OPSFORGE_VAULT_PASSWORD=VAULT_PASSWORD,
        NO_COLOR="1",
    )
    env.pop("OPSFORGE_INVENTORY", None)
    i = ("-i", str(inv))
    commands = [
        ("inventory", "host", "lab1", *i),
        ("inventory", "host", "lab1", *i, "--json"),
        ("inventory", "list", *i, "--json"),
        ("apply", str(deploy), "all", *i, "--check", "--diff"),
        ("apply", str(deploy), "all", *i, "--diff"),
        ("apply", str(deploy), "all", *i, "--diff", "-o", "json"),
        ("exec", "all", *i, "--", f"cat {token_file} {remote / 'app.env'}"),
        ("exec", "all", *i, "-o", "json", "--", f"cat {token_file}"),
        ("exec", "all", *i, "--group-output", "--", f"cat {token_file}"),
        ("exec", "all", *i, "--become", "--", "id -u"),
        ("audit", "all", *i, "--profile", "ssh"),
        ("audit", "all", *i, "--profile", "ssh", "--format", "json"),
        ("audit", "all", *i, "--profile", "ssh", "--format", "sarif"),
        ("harden", "all", *i, "--profile", "ssh", "--check", "--diff"),
        ("runs", "list"),
    ]
    leaks: list[str] = []
    forms = {c: _forms(c) for c in (vault_canary, password_canary)}
    for args in commands:
        proc = subprocess.run(
            [sys.executable, "-m", "opsforge", *args],
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert b"Traceback" not in proc.stderr, proc.stderr.decode()
        for stream, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            for canary, variants in forms.items():
                if any(v in data for v in variants):
                    leaks.append(f"{' '.join(args[:2])} {stream}: {canary[:20]}")
        if args[0] == "exec" and "cat" in args[-1] and b"***" not in proc.stdout:
            leaks.append(f"exec stdout: no *** in {proc.stdout[-200:]!r}")  # masked, not gone
    assert vault_canary in token_file.read_text()  # the deploy did write the secret
    files = [p for p in state.rglob("*") if p.is_file()]
    assert files, "the runs were recorded"
    for path in files:
        data = path.read_bytes()
        for canary, variants in forms.items():
            if any(v in data for v in variants):
                leaks.append(f"{path.relative_to(state)}: {canary[:20]}")
    assert leaks == [], "\n".join(leaks)


def test_pipeline_secret_never_leaks(tmp_path: Path) -> None:
    canary = "opsforge-canary-" + secrets.token_hex(8)
    project = tmp_path / "project"
    project.mkdir()
    (project / ".gitlab-ci.yml").write_text(
        "stages: [build]\n"
        "show:\n"
        "  stage: build\n"
        "  script:\n"
        '    - echo "token is $TOKEN"\n'
        '    - printf %s "$TOKEN" | base64\n'
        '    - echo "$TOKEN" > token.txt\n'
        "    - cat token.txt\n"
        "  artifacts: {paths: [token.txt]}\n"
    )
    state = tmp_path / "state"
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(state), NO_COLOR="1")
    leaks: list[str] = []
    variants = _forms(canary)
    for extra in ((), ("-o", "json")):
        proc = subprocess.run(
            [sys.executable, "-m", "opsforge", "pipeline", "run", "--secret", f"TOKEN={canary}",
             *extra],
            cwd=project, capture_output=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        assert b"Traceback" not in proc.stderr
        for stream, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if any(v in data for v in variants):
                leaks.append(f"pipeline {' '.join(extra)} {stream}")
        assert b"***" in proc.stdout + proc.stderr  # masked, not gone
    logs = [p for p in (project / ".opsforge").rglob("*.log") if p.is_file()]
    assert logs, "the job logs were written"
    for path in [*logs, *(p for p in state.rglob("*") if p.is_file())]:
        if path.name == "token.txt":
            continue  # the job's own artifact holds what the job wrote
        if any(v in path.read_bytes() for v in variants):
            leaks.append(str(path))
    assert leaks == [], "\n".join(leaks)


def _indent(text: str, width: int) -> str:
    return "".join(" " * width + line + "\n" for line in text.splitlines())


def test_redactor_masks_values_split_across_chunks() -> None:
    from opsforge.cli.redact import Redactor, known_secrets
    from opsforge.engine import StepFinished, StepOutput
    from opsforge.types import Become, HostSpec, HostStatus, Secret

    spec = HostSpec(
        "web1",
        password=Secret("ssh-pass-1"),
        become=Become(password=Secret("sudo pass 2")),
        vars={"db": {"password": Secret("s3cr3t-v4lue")}, "tiny": Secret("ab")},
    )
    values = known_secrets([spec])
    assert values == ["s3cr3t-v4lue", "sudo pass 2", "ssh-pass-1"]  # "ab": too short
    redactor = Redactor(values)
    seen: list[object] = []
    (forward,) = redactor.wrap([seen.append])

    def out(text: str) -> None:
        forward(StepOutput(run_id="r", host="web1", step_id="web1", stream="stdout", text=text))

    out("token=s3cr")
    out("3t-v4lue\nnext ")
    out("'sudo pass 2' end")
    forward(StepFinished(run_id="r", host="web1", step_id="web1", status=HostStatus.OK))
    texts = [e.text for e in seen if isinstance(e, StepOutput)]
    assert "".join(texts) == "token=***\nnext *** end"
    assert isinstance(seen[-1], StepFinished)
