"""``opsforge scan [PATH]``: Python code (Bandit), secrets, dependencies (offline OSV
database) and configuration (Dockerfiles, Kubernetes, CI, SSH) in one report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from opsforge.cli.console import err_console
from opsforge.cli.security_output import gate_options, print_problems, print_table, write_report
from opsforge.errors import UsageError
from opsforge.security import (
    SCAN_EXIT_CODE_HELP,
    ScanReport,
    Severity,
    apply_baseline,
    exit_code,
    load_baseline,
)
from opsforge.security.scan import SCANNERS, ScanOptions, default_jobs, run_scan
from opsforge.security.scan.advisory_update import (
    DEFAULT_DB_URL,
    default_db_path,
    fetch_advisory_db,
)

EPILOG = (
    """\b
Examples:
  opsforge scan                                   # this directory, table on stdout
  opsforge scan src --only code --only secrets --fail-on high
  opsforge scan . --history --format sarif -o scan.sarif
  opsforge scan . --db ./advisory-db --env .venv  # dependencies against an offline OSV DB
  opsforge scan --update-db                       # fetch the OSV PyPI database once
  opsforge scan . --baseline scan.json            # only findings that are new

\b
Suppress one finding with a reason:  x = eval(expr)  # opsforge: ignore[B307] trusted input

\b
"""
    + SCAN_EXIT_CODE_HELP
)


def _scanners(only: tuple[str, ...], skip: tuple[str, ...]) -> frozenset[str]:
    chosen = set(only or SCANNERS) - set(skip)
    if not chosen:
        raise UsageError("--only/--skip leave no scanner to run")
    return frozenset(chosen)


def _summary(report: ScanReport, fail_on: Severity) -> None:
    counts = report.counts()
    by_severity = ", ".join(f"{counts[s.label]} {s.label}" for s in reversed(Severity))
    extras = []
    suppressed = len(report.findings) - len(report.active)
    if suppressed:
        extras.append(f"{suppressed} suppressed")
    if report.baseline_hidden:
        extras.append(f"{report.baseline_hidden} in the baseline")
    stats = report.stats
    extra = f"; {', '.join(extras)}" if extras else ""
    err_console.print(
        f"{len(report.active)} findings ({by_severity}{extra}) in "
        f"{stats.get('files_scanned', 0)} files, {stats.get('packages_checked', 0)} packages"
    )
    if report.incomplete:
        err_console.print(
            "[bold magenta]scan incomplete:[/] some files or packages were not checked (above)"
        )
    elif report.at_or_above(fail_on):
        err_console.print(f"findings at or above --fail-on {fail_on.label}")


@click.command("scan", epilog=EPILOG)
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "sarif", "junit"]),
    default="table",
    show_default=True,
    help="table for people; json, SARIF 2.1.0 or JUnit XML for tools.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file (atomically) instead of stdout.",
)
@gate_options
@click.option(
    "--history", is_flag=True, help="Also scan every commit of the git history for secrets."
)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(SCANNERS),
    help="Run only these scanners (repeatable).",
)
@click.option("--skip", multiple=True, type=click.Choice(SCANNERS), help="Skip these scanners.")
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    help="OSV advisory database: a directory or .zip/.tar.gz of OSV records "
    "[default: $OPSFORGE_ADVISORY_DB or the one --update-db fetched].",
)
@click.option(
    "--update-db",
    is_flag=True,
    help="Fetch the OSV PyPI advisory database first (needs network).",
)
@click.option(
    "--db-url", default=DEFAULT_DB_URL, show_default=True, help="Where --update-db fetches from."
)
@click.option(
    "--env",
    "envs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An installed environment (virtualenv or site-packages) to check (repeatable).",
)
@click.option(
    "--exclude", multiple=True, metavar="GLOB", help="Skip paths matching GLOB (repeatable)."
)
@click.option(
    "--all-files",
    is_flag=True,
    help="Do not skip .git, node_modules, virtualenvs, caches and vendored directories.",
)
@click.option(
    "--max-file-size",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    metavar="MIB",
    help="Skip (and report) files larger than this.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    default=default_jobs(),
    show_default="CPUs available",
    help="Worker processes.",
)
@click.option("--show-suppressed", is_flag=True, help="List suppressed findings in the table too.")
def scan_command(path: Path | None, **params: Any) -> None:
    """Scan PATH (default: .) for vulnerable code, secrets, vulnerable dependencies
    and insecure configuration; one report, one exit code.

    \b
    code          Python, every Bandit test (library API), # nosec honoured
    secrets       AWS, GitHub, GitLab, Slack, Stripe, Google, PyPI, npm tokens, private
                  keys, JWTs, password assignments, high-entropy strings; --history
                  adds every git commit
    dependencies  requirements*.txt, poetry.lock, uv.lock, Pipfile.lock, *.dist-info and
                  --env environments against an offline OSV database (--db)
    config        Dockerfiles, Kubernetes manifests, GitHub/GitLab CI, ssh(d) configs
    """
    if params["fmt"] == "table" and params["output"] is not None:
        raise UsageError("-o/--output needs --format json, sarif or junit")
    db = params["db"]
    if params["update_db"]:
        dest = db or default_db_path()
        err_console.print(f"fetching advisories from {params['db_url']} ...")
        records = fetch_advisory_db(dest, params["db_url"])
        err_console.print(f"advisory database updated: {records} records in {dest}")
        db = dest
        if path is None:
            return
    if db is None:
        candidate = default_db_path()
        db = candidate if candidate.exists() else None
    baseline = load_baseline(params["baseline"]) if params["baseline"] else None
    options = ScanOptions(
        root=path or Path("."),
        scanners=_scanners(params["only"], params["skip"]),
        history=params["history"],
        db=db,
        envs=tuple(params["envs"]),
        exclude=tuple(params["exclude"]),
        all_files=params["all_files"],
        max_file_size=params["max_file_size"] * 1024 * 1024,
        jobs=params["jobs"],
    )
    report = run_scan(options)
    if baseline is not None:
        report = apply_baseline(report, baseline)
    fail_on = Severity.parse(params["fail_on"])
    print_problems(report)
    if params["fmt"] == "table":
        print_table(report, show_suppressed=params["show_suppressed"])
    else:
        write_report(report, params["fmt"], params["output"])
    _summary(report, fail_on)
    raise click.exceptions.Exit(int(exit_code(report, fail_on)))
