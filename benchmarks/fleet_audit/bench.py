"""Driver of benchmarks/fleet_audit (see README.md): times and findings side by side."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from opsforge.testing import SSHLab

WEAK = {
    "PermitRootLogin": "yes",
    "PasswordAuthentication": "yes",
    "X11Forwarding": "yes",
    "KexAlgorithms": "curve25519-sha256,diffie-hellman-group14-sha1,diffie-hellman-group1-sha1,"
    "ecdh-sha2-nistp256,diffie-hellman-group-exchange-sha256",
    "HostKeyAlgorithms": "ssh-ed25519,ssh-rsa,ecdsa-sha2-nistp256",
    "Ciphers": "aes256-ctr,chacha20-poly1305@openssh.com,aes128-cbc,3des-cbc",
    "MACs": "hmac-sha2-256-etm@openssh.com,umac-64@openssh.com,hmac-md5,hmac-sha1",
}
ROOT = Path(os.environ.get("ROOT", "/tmp/fleet_audit"))
OPSFORGE = [sys.executable, "-m", "opsforge"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=600)
    return time.perf_counter() - start, proc


def flagged_by_opsforge(report: dict[str, object], host: str) -> set[str]:
    names: set[str] = set()
    for finding in report["findings"]:  # type: ignore[attr-defined]
        if finding["location"]["host"] != host:
            continue
        if finding["rule_id"].startswith("ssh.weak-"):
            for part in finding["message"].split(": ", 1)[1].split("], "):
                names.add(part.split(" ", 1)[0])
        elif finding["rule_id"] == "ssh.small-dh-modulus":
            names.add(finding["message"].split(" ", 1)[0])
    return names


def flagged_by_ssh_audit(report: dict[str, object]) -> set[str]:
    names: set[str] = set()
    for category in ("kex", "key", "enc", "mac"):
        for alg in report.get(category, []):  # type: ignore[attr-defined]
            notes = alg.get("notes", {})
            if notes.get("fail") or notes.get("warn"):
                names.add(alg["algorithm"])
    return names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(ROOT / "state"), NO_COLOR="1")
    lab = SSHLab(ROOT / "lab", args.hosts, sshd_options=WEAK,
                 extra_host_keys=("ecdsa-sha2-nistp256", "ssh-rsa"))  # fmt: skip
    with lab as info:
        inv = str(info.inventory_path)
        targets = ROOT / "targets.txt"
        targets.write_text("".join(f"127.0.0.1:{h.port}\n" for h in info.hosts))
        ops_cmd = [*OPSFORGE, "audit", "all", "-i", inv, "--profile", "ssh", "--format", "json"]
        peer_cmd = [os.environ["SSH_AUDIT"], "-j", "-T", str(targets), "--threads",
                    str(args.hosts)]  # fmt: skip
        ops_times, peer_times = [], []
        ops_out = peer_out = ""
        for _ in range(args.runs):
            took, proc = timed(ops_cmd, env)
            ops_times.append(took)
            ops_out = proc.stdout
            took, proc = timed(peer_cmd, env)
            peer_times.append(took)
            peer_out = proc.stdout
        ops_report = json.loads(ops_out)
        peer_reports = json.loads(peer_out)
        peer_first = next(r for r in peer_reports if r["target"].endswith(f":{info.hosts[0].port}"))
        ours = flagged_by_opsforge(ops_report, "lab1")
        theirs = flagged_by_ssh_audit(peer_first)
        harden = [*OPSFORGE, "harden", "all", "-i", inv, "--profile", "ssh"]
        first, proc1 = timed(harden, env)
        second, proc2 = timed(harden, env)
        _, proc3 = timed(ops_cmd, env)
        left = {f["rule_id"] for f in json.loads(proc3.stdout)["findings"]}
    ops_med, peer_med = statistics.median(ops_times), statistics.median(peer_times)
    print(f"| tool ({args.hosts} hosts, median of {args.runs}) | seconds |")
    print("|---|---|")
    print(f"| opsforge audit --profile ssh (sshd -T over SSH + KEXINIT) | {ops_med:.2f} |")
    print(f"| ssh-audit -T (wire only, {args.hosts} threads) | {peer_med:.2f} |")
    print(f"| ratio ssh-audit / opsforge | {peer_med / ops_med:.2f} |")
    print(f"| opsforge harden, first run (exit {proc1.returncode}) | {first:.2f} |")
    print(f"| opsforge harden, second run (exit {proc2.returncode}, "
          f"{'0 changed' if '| changed |' not in proc2.stdout + proc2.stderr else 'CHANGED'})"
          f" | {second:.2f} |")  # fmt: skip
    print(f"| opsforge audit after harden: rules left | {', '.join(sorted(left)) or '-'} |")
    print()
    print(f"weak algorithms flagged on lab1 by both: {', '.join(sorted(ours & theirs))}")
    print(f"only opsforge: {', '.join(sorted(ours - theirs)) or '-'}")
    print(f"only ssh-audit: {', '.join(sorted(theirs - ours)) or '-'}")


if __name__ == "__main__":
    main()
