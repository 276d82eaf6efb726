"""``opsforge pipeline run|list|graph|explain``: CI/CD pipelines, locally."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import click

from opsforge.cli.console import err_console, escape, out_console, real_console
from opsforge.cli.entry import gc_paused
from opsforge.cli.interrupts import SignalInterrupts
from opsforge.cli.main import LazyGroup
from opsforge.cli.render_pipeline import (
    JobLogRenderer,
    print_explain,
    print_graph,
    print_list,
    print_recap,
    recap_json,
)
from opsforge.engine import Event
from opsforge.errors import StateError, UsageError
from opsforge.observe.runmetrics import run_metrics_from_env
from opsforge.pipelines.formats import LoadOptions, available_formats, frontend, load_pipeline
from opsforge.pipelines.gitinfo import prefetch_git_info, work_tree_root
from opsforge.pipelines.masking import Masker
from opsforge.pipelines.model import Pipeline
from opsforge.pipelines.planner import PipelinePlan, plan_pipeline
from opsforge.pipelines.run import PipelineRun, run_pipeline
from opsforge.pipelines.runstate import RunSettings
from opsforge.pipelines.services import SERVICE_WAIT_TIMEOUT
from opsforge.state import RunRecorder, state_dir
from opsforge.types import Secret

EXIT_HELP = """\b
Exit codes:
  0    every job passed (failures allowed to fail do not count)
  1    a job failed or timed out and was not allowed to
  2    usage or input error: bad pipeline file (file:line), cycle, unknown job
  130  interrupted (Ctrl-C); running jobs' processes are killed"""


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} must be NAME=VALUE, not {item!r}")
        out[name] = value
    return out


def _root_for(file: Path | None, directory: Path | None) -> Path:
    if directory is not None:
        return directory.resolve()
    start = file.resolve().parent if file is not None else Path.cwd()
    return work_tree_root(start) or start


def _split_args(args: tuple[str, ...]) -> tuple[Path | None, tuple[str, ...]]:
    """The first argument is FILE when it names an existing file; the rest are jobs."""
    if args and Path(args[0]).is_file():
        return Path(args[0]), args[1:]
    return None, args


def _complete_format(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return [name for name in available_formats() if name.startswith(incomplete)]


def load_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "-C",
            "--directory",
            type=click.Path(file_okay=False, path_type=Path),
            help="Project root (default: the git work tree of FILE or of the current directory).",
        ),
        click.option(
            "--format",
            "format_name",
            metavar="FORMAT",
            shell_complete=_complete_format,
            help="Pipeline format: native, gitlab, github, circleci, jenkins or an installed "
            "plugin's (default: detected).",
        ),
        click.option(
            "--var",
            "variables",
            multiple=True,
            metavar="NAME=VALUE",
            help="Set a variable (highest precedence). Repeatable.",
        ),
        click.option(
            "--input",
            "inputs",
            multiple=True,
            metavar="NAME=VALUE",
            help="A GitLab spec:inputs value, GitHub workflow input (on.workflow_dispatch/"
            "workflow_call inputs), CircleCI pipeline parameter or Jenkins parameter, "
            "checked against its declared type. Repeatable.",
        ),
        click.option(
            "--secret",
            "secrets",
            multiple=True,
            metavar="NAME=VALUE",
            help="A secret variable: masked in every log line. Repeatable.",
        ),
        click.option(
            "--secret-file",
            "secret_files",
            multiple=True,
            metavar="NAME=PATH",
            help="A secret variable read from a file (masked). Repeatable.",
        ),
        click.option("--ref", help="Branch to act as (default: the current git branch)."),
        click.option("--base-ref", help="Ref that rules:changes compare against (default HEAD~1)."),
        click.option(
            "--event",
            default="push",
            show_default=True,
            help="Pipeline source / event (push, merge_request_event, schedule, ...).",
        ),
        click.option(
            "--vendor-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Vendored remote/project/template/component includes.",
        ),
        click.option(
            "--allow-missing-includes",
            is_flag=True,
            help="Leave includes that are not vendored out (with a warning).",
        ),
        click.option("--strict", is_flag=True, help="Unsupported features are errors."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _secrets(secrets: tuple[str, ...], files: tuple[str, ...]) -> dict[str, Secret]:
    values = {k: Secret(v) for k, v in _pairs(secrets, "--secret").items()}
    for name, path in _pairs(files, "--secret-file").items():
        try:
            values[name] = Secret(Path(path).read_text().rstrip("\n"))
        except OSError as exc:
            raise UsageError(f"--secret-file {name}: cannot read {path}: {exc.strerror}") from None
    return values


def _load(
    args: tuple[str, ...],
    kw: dict[str, Any],
    jobs: tuple[str, ...] = (),
    manual: tuple[str, ...] = (),
) -> tuple[Pipeline, PipelinePlan, LoadOptions]:
    file, rest = _split_args(args)
    requested = (*rest, *jobs)
    root = _root_for(file, kw["directory"])
    prefetch_git_info(root)  # git runs while the pipeline file is parsed
    secrets = _secrets(kw["secrets"], kw["secret_files"])
    variables = _pairs(kw["variables"], "--var")
    options = LoadOptions(
        root=root,
        variables=variables,
        ref=kw["ref"],
        base_ref=kw["base_ref"],
        event=kw["event"],
        vendor_dir=kw["vendor_dir"],
        allow_missing_includes=kw["allow_missing_includes"],
        strict=kw["strict"],
        requested_jobs=requested,
        secrets=secrets,
        inputs=_pairs(kw["inputs"], "--input"),
    )
    pipeline = load_pipeline(
        file.resolve() if file else None, options, format_name=kw["format_name"]
    )
    if options.inputs and not frontend(pipeline.format).inputs:
        raise UsageError(f"--input: {pipeline.format} pipelines take no inputs; use --var")
    for message, where in pipeline.warnings:
        prefix = f"{where}: " if where else ""
        err_console.print(f"[yellow]warning:[/yellow] {escape(prefix + message)}")
    return pipeline, plan_pipeline(pipeline, requested, manual), options


@click.group(
    "pipeline",
    cls=LazyGroup,
    lazy={"export": "opsforge.cli.pipeline_export_cmd:export_command"},
)
def pipeline_group() -> None:
    """Run CI/CD pipelines locally: opsforge's own, GitLab CI and more (see docs/pipelines.md).

    FILE is detected when not given: opsforge-pipeline.yml, .gitlab-ci.yml,
    .github/workflows/*.yml, .circleci/config.yml, Jenkinsfile.
    """


def _history(argv: list[str]) -> RunRecorder | None:
    try:
        return RunRecorder(state_dir(), command="pipeline run", argv=argv)
    except StateError as exc:
        err_console.print(f"[yellow]warning:[/yellow] run history disabled: {escape(str(exc))}")
        return None


def _masked_argv(secrets: dict[str, Secret]) -> list[str]:
    masker = Masker(s.reveal() for s in secrets.values())
    return [masker.mask(a) for a in sys.argv[1:]]


async def _run(
    plan: PipelinePlan,
    settings: RunSettings,
    subscribers: list[Callable[[Event], None]],
    secrets: list[str],
) -> PipelineRun:
    hook = SignalInterrupts("killing running jobs")
    try:
        return await run_pipeline(
            plan, settings, subscribers=subscribers, secrets=secrets, executor_hook=hook
        )
    finally:
        hook.remove()


def _write_junit(
    run: PipelineRun, masker: Masker, junit: Path | None, junit_reports: Path | None
) -> None:
    from opsforge.pipelines.junit import job_results_xml, merged_reports_xml, write_xml

    name = run.plan.pipeline.name
    if junit is not None:
        write_xml(job_results_xml(name, run.records.values(), masker), junit)
    if junit_reports is not None:
        merged, problems = merged_reports_xml(name, run.records.values())
        write_xml(merged, junit_reports)
        for problem in problems:
            err_console.print(
                f"[yellow]warning:[/yellow] junit report not merged: {escape(problem)}"
            )


def _panes(ui: str) -> bool:
    """``--ui panes`` on a terminal that can redraw; elsewhere a note and the lines view."""
    if ui != "panes":
        return False
    if not sys.stdout.isatty():
        err_console.print("note: --ui panes needs a terminal on stdout; showing lines")
        return False
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        err_console.print("note: --ui panes cannot redraw a TERM=dumb terminal; showing lines")
        return False
    return True


@pipeline_group.command("run", epilog=EXIT_HELP)
@click.argument("args", nargs=-1, metavar="[FILE] [JOB]...")
@load_options
@click.option(
    "--in-place", is_flag=True, help="Run jobs in the project directory (no isolated workdirs)."
)
@click.option(
    "--executor",
    type=click.Choice(["auto", "shell"]),
    default="auto",
    show_default=True,
    help="auto: docker for jobs with an image when dockerd and the image are there; "
    "shell: never docker.",
)
@click.option(
    "-j",
    "--concurrency",
    type=click.IntRange(1),
    help="Jobs at once (default: all that are ready, up to 64).",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: JSON Lines events on stdout.",
)
@click.option(
    "--ui",
    type=click.Choice(["lines", "panes"]),
    default="lines",
    show_default=True,
    help="Text output: lines prefixed by job, or one pane per running job with its last "
    "lines (on a terminal; elsewhere lines).",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the jobs' results as JUnit XML.",
)
@click.option(
    "--junit-reports",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the jobs' own JUnit reports merged into one file.",
)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Logs, artifacts and workdirs of this run (default <root>/.opsforge/runs/<run id>).",
)
@click.option(
    "--manual",
    "manual",
    multiple=True,
    metavar="JOB",
    help="Also start this manual job in a whole-pipeline run (repeatable).",
)
@click.option(
    "--keep-workdirs",
    is_flag=True,
    help="Keep each job's workdir: the isolated local ones and an ssh job's directory on its host.",
)
@click.option("-i", "--inventory", help="Inventory for jobs that run on a host (executor ssh).")
@click.option(
    "--services-timeout",
    type=click.FloatRange(min=0),
    default=SERVICE_WAIT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="How long a docker job's services may take to become ready (then a warning).",
)
def run_command(
    args: tuple[str, ...],
    in_place: bool,
    executor: str,
    concurrency: int | None,
    output: str,
    ui: str,
    junit: Path | None,
    junit_reports: Path | None,
    run_dir: Path | None,
    keep_workdirs: bool,
    inventory: str | None,
    manual: tuple[str, ...],
    services_timeout: float,
    **kw: Any,
) -> None:
    """Run the pipeline in FILE, or only the named JOBs (and what they need).

    Manual jobs run only when named (or with --manual in a whole run). Each job gets its
    own workdir (hardlinks to one snapshot of the project's git files) unless --in-place.
    """
    with gc_paused():  # the parsed pipeline lives for the whole run
        pipeline, plan, options = _load(args, kw, manual=manual)
    settings = RunSettings(
        in_place=in_place,
        variables=options.variables,
        executor="shell" if executor == "shell" else None,
        run_dir=run_dir.resolve() if run_dir else None,
        concurrency=concurrency,
        keep_workdirs=keep_workdirs,
        inventory=inventory,
        services_timeout=services_timeout,
    )
    if not pipeline.runs:
        err_console.print(f"the pipeline does not run: {escape(pipeline.workflow_reason)}")
        return
    subscribers: list[Callable[[Event], None]] = []
    view: AbstractContextManager[Any] = nullcontext()
    if output == "json":
        from opsforge.cli.render import JsonLinesRenderer  # rich.progress & co: json only

        subscribers.append(JsonLinesRenderer())
    elif _panes(ui):
        from opsforge.cli.render_panes import PaneRenderer  # rich.live: only for panes

        view = panes = PaneRenderer([p.name for p in plan.running], real_console(out_console))
        subscribers.append(panes)
    else:
        subscribers.append(JobLogRenderer([p.name for p in plan.running]))
    secret_values = [s.reveal() for s in options.secrets.values()]
    from opsforge.cli.ci_annotations import CIAnnotator  # only runs need it (import cost)

    annotator = CIAnnotator.detect([*pipeline.secrets(), *secret_values])
    if annotator is not None and output != "json":
        subscribers.append(annotator)
    history = _history(_masked_argv(dict(options.secrets)))
    if history is not None:
        subscribers.append(history)
    # $OPSFORGE_METRICS_PUSH / $OPSFORGE_METRICS_TEXTFILE: the run's own metrics, as for
    # every other run (cli/runner.py)
    metrics = run_metrics_from_env(
        "pipeline", on_error=lambda m: err_console.print(f"[yellow]warning:[/yellow] {escape(m)}")
    )
    if metrics is not None:
        subscribers.append(metrics)
    try:
        with view:
            run = asyncio.run(_run(plan, settings, subscribers, secret_values))
    finally:
        if history is not None:
            history.close()
    if junit is not None or junit_reports is not None:
        _write_junit(run, Masker([*pipeline.secrets(), *secret_values]), junit, junit_reports)
    if output == "json":
        sys.stdout.write(json.dumps(recap_json(run)) + "\n")
    else:
        print_recap(run)
    sys.exit(run.exit_code)


@pipeline_group.command("list")
@click.argument("args", nargs=-1, metavar="[FILE] [JOB]...")
@load_options
@click.option("--json", "as_json", is_flag=True)
def list_command(args: tuple[str, ...], as_json: bool, **kw: Any) -> None:
    """The planned jobs after rules and matrix expansion, and why each runs or not."""
    _, plan, _ = _load(args, kw)
    print_list(plan, as_json)


@pipeline_group.command("graph")
@click.argument("args", nargs=-1, metavar="[FILE]")
@load_options
@click.option("--json", "as_json", is_flag=True, help="The DAG as JSON.")
def graph_command(args: tuple[str, ...], as_json: bool, **kw: Any) -> None:
    """The job graph (DAG), level by level, or as JSON."""
    _, plan, _ = _load(args, kw)
    print_graph(plan, as_json)


@pipeline_group.command("explain")
@click.argument("job")
@click.option(
    "-f", "--file", "file", type=click.Path(dir_okay=False, exists=True), help="Pipeline file."
)
@load_options
def explain_command(job: str, file: str | None, **kw: Any) -> None:
    """Why JOB runs or is skipped: the rule that matched, its needs, when, retry, ..."""
    _, plan, _ = _load((file,) if file else (), kw)
    if not print_explain(plan, job):
        raise UsageError(f"no job named {job!r} in {plan.pipeline.source.path}")
