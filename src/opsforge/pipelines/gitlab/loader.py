"""Load a ``.gitlab-ci.yml`` (and what it includes) into the pipeline model."""

from __future__ import annotations

import itertools
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.formats import LoadOptions
from opsforge.pipelines.gitinfo import git_info
from opsforge.pipelines.gitlab.configs import JOB_KEYS, job_definitions, with_defaults
from opsforge.pipelines.gitlab.includes import IncludeResolver
from opsforge.pipelines.gitlab.keywords import (
    Where,
    parse_allow_failure,
    parse_artifacts,
    parse_cache,
    parse_duration,
    parse_image,
    parse_retry,
    parse_services,
    parse_variables,
    script_lines,
)
from opsforge.pipelines.gitlab.predefined import job_variables, pipeline_variables
from opsforge.pipelines.gitlab.rules import (
    RuleContext,
    RuleOutcome,
    evaluate_only_except,
    evaluate_rules,
)
from opsforge.pipelines.gitlab.yamlsource import YMap, loc, resolve_references
from opsforge.pipelines.model import (
    Condition,
    ExcludedJob,
    Job,
    Need,
    Pipeline,
    SourceLocation,
    Step,
    Trigger,
    Variable,
    When,
)
from opsforge.pipelines.variables import resolve_variables

__all__ = ["GitLabLoader", "echo_script", "load_gitlab"]

DEFAULT_STAGES = ("build", "test", "deploy")
SHELL = "bash -eo pipefail {0}"
_WHEN = {"on_success", "on_failure", "always", "manual", "delayed", "never"}


def echo_script(commands: list[str]) -> str:
    """A script that prints each command as ``$ cmd`` (GitLab's job log) before running it."""
    parts = []
    for command in commands:
        shown = command.strip().splitlines()[0] if command.strip() else ""
        if "\n" in command.strip():
            shown += " # collapsed multi-line command"
        parts.append(f"printf '%s\\n' {shlex.quote('$ ' + shown)}\n{command}")
    return "\n".join(parts) + "\n"


class GitLabLoader:
    """Loads one file; the native front-end extends it (``FORMAT``, extra keywords, hooks)."""

    FORMAT = "gitlab"
    EXTRA_JOB_KEYS: frozenset[str] = frozenset()
    EXTRA_GLOBAL_KEYS: frozenset[str] = frozenset()
    BODY_KEYS = frozenset({"script", "trigger"})

    def __init__(self, path: Path, options: LoadOptions) -> None:
        self.path = path
        self.options = options
        self.root = options.root
        self.warnings: list[tuple[str, SourceLocation | None]] = []
        info = git_info(self.root)
        branch = options.ref or info.branch
        self.predefined = pipeline_variables(
            self.root, info, branch=branch, source=options.event, config=path
        )
        self.rule_ctx = RuleContext(
            self.root,
            {},
            source=options.event,
            branch="" if info.tag and not options.ref else branch,
            tag=info.tag if not options.ref else "",
            base_ref=options.base_ref,
        )

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def _include_rules(self, rules: Any, where: str) -> bool:
        file, _, line = where.rpartition(":")
        outcome = evaluate_rules(
            rules, self.rule_ctx, where=(file, int(line) if line.isdigit() else None), job=None
        )
        return outcome.included

    def load(self) -> Pipeline:
        name = self.display(self.path)
        self.rule_ctx.env = {**self.predefined, **self.options.variables}
        resolver = IncludeResolver(
            self.root,
            self.options.vendor_dir,
            allow_missing=self.options.allow_missing_includes,
            rule_check=self._include_rules,
            variables=self.rule_ctx.env,
        )
        config = resolver.load(self.path, self.options.inputs)
        self.warnings += resolver.warnings
        config = resolve_references(config, config)
        global_vars = parse_variables(
            config.get("variables"), Where(name, config.line_of("variables"), None)
        )
        base_env = {
            **self.predefined,
            **resolve_variables(global_vars, self.predefined),
            **self.options.variables,
        }
        self.rule_ctx.env = base_env
        stages = self._stages(config, name)
        runs, workflow_reason, workflow_vars = self._workflow(config, name)
        global_vars.update(workflow_vars)
        default = self._default(config)
        jobs: list[Job] = []
        excluded: list[ExcludedJob] = []
        self.prepare(config)
        definitions = job_definitions(config, self.EXTRA_GLOBAL_KEYS)
        expanded: dict[str, list[str]] = {}
        raw_jobs: list[tuple[str, YMap, RuleOutcome]] = []
        for job_name, definition in definitions.items():
            definition = with_defaults(definition, default, job_name)
            self._check_keys(job_name, definition)
            env = {
                **base_env,
                **resolve_variables(
                    parse_variables(
                        definition.get("variables"), self._where(definition, job_name, "variables")
                    ),
                    base_env,
                ),
            }
            outcome = self._decide(job_name, definition, env)
            if not outcome.included:
                excluded.append(
                    ExcludedJob(
                        job_name,
                        outcome.reason,
                        loc(definition),
                        str(definition.get("stage", "test")),
                    )
                )
                continue
            raw_jobs.append((job_name, definition, outcome))
            expanded[job_name] = [n for n, _, _ in self._cells(job_name, definition)]
        for job_name, definition, outcome in raw_jobs:
            for job in self._jobs(job_name, definition, outcome, global_vars, expanded, stages):
                jobs.append(self.finish_job(job, definition))
        children: dict[str, Pipeline] = {}
        for job in jobs:
            if job.trigger is not None:
                children[job.name] = self._child(job)
        if self.options.strict and self.warnings:
            message, where = self.warnings[0]
            raise PipelineError(
                f"{message} (--strict makes this an error; {len(self.warnings)} in all)",
                path=where.path if where else name,
                line=where.line if where else None,
            )
        return Pipeline(
            name=name,
            format=self.FORMAT,
            source=SourceLocation(name, 1),
            root=self.root,
            jobs=tuple(jobs) if runs else (),
            stages=stages,
            variables=global_vars,
            excluded=tuple(excluded),
            runs=runs,
            workflow_reason=workflow_reason,
            warnings=tuple(self.warnings),
            children=children,
        )

    # -- pipeline-level ---------------------------------------------------------------

    def _stages(self, config: YMap, name: str) -> tuple[str, ...]:
        raw = config.get("stages")
        if raw is None:
            stages = list(DEFAULT_STAGES)
        elif isinstance(raw, list) and all(isinstance(s, str) for s in raw):
            stages = [s for s in raw if s not in (".pre", ".post")]
        else:
            raise PipelineError(
                "stages must be a list of names", path=name, line=config.line_of("stages")
            )
        return (".pre", *dict.fromkeys(stages), ".post")

    def _workflow(self, config: YMap, name: str) -> tuple[bool, str, dict[str, Variable]]:
        workflow = config.get("workflow")
        if not isinstance(workflow, Mapping) or "rules" not in workflow:
            return True, "", {}
        line = workflow.line_of("rules") if isinstance(workflow, YMap) else None
        outcome = evaluate_rules(workflow["rules"], self.rule_ctx, where=(name, line), job=None)
        variables = (
            parse_variables(outcome.variables, Where(name, line, None)) if outcome.variables else {}
        )
        if not outcome.included:
            return False, f"workflow:rules: {outcome.reason}", {}
        return True, f"workflow:rules: {outcome.reason}", variables

    def _default(self, config: YMap) -> Mapping[str, Any]:
        default = YMap(config.get("default") or {})
        for key in ("image", "services", "before_script", "after_script", "cache"):
            if key in config and key not in default:
                default[key] = config[key]  # deprecated global keywords
        return default

    def prepare(self, config: YMap) -> None:
        """Hook: look at the whole configuration before jobs are built."""

    def finish_job(self, job: Job, definition: YMap) -> Job:
        """Hook: adjust each built job (one per matrix cell)."""
        return job

    def _where(self, definition: YMap, job: str | None, key: str | None = None) -> Where:
        return Where(definition.path, definition.line_of(key) if key else definition.line, job)

    def _check_keys(self, name: str, definition: YMap) -> None:
        for key in ("secrets", "id_tokens", "release", "pages"):
            if key in definition:
                where = loc(definition, key)
                self.warnings.append(
                    (f"job {name}: {key} is not supported locally (ignored)", where)
                )
        for key in definition:
            if key not in JOB_KEYS and key not in self.EXTRA_JOB_KEYS:
                raise PipelineError(
                    f"unknown keyword {key!r}",
                    path=definition.path,
                    line=definition.line_of(key),
                    job=name,
                )
        if not self.BODY_KEYS & set(definition):
            raise PipelineError(
                "has no script (and no trigger)",
                path=definition.path,
                line=definition.line,
                job=name,
            )
        when = definition.get("when")
        if when is not None and when not in _WHEN:
            raise PipelineError(
                f"unknown when {when!r} (one of {', '.join(sorted(_WHEN))})",
                path=definition.path,
                line=definition.line_of("when"),
                job=name,
            )

    def _decide(self, name: str, definition: YMap, env: dict[str, str]) -> RuleOutcome:
        self.rule_ctx.env = env
        where = (definition.path, definition.line_of("rules"))
        if "rules" in definition:
            if "only" in definition or "except" in definition:
                raise PipelineError(
                    "rules cannot be used with only/except",
                    path=definition.path,
                    line=definition.line_of("rules"),
                    job=name,
                )
            return evaluate_rules(definition["rules"], self.rule_ctx, where=where, job=name)
        if "only" in definition or "except" in definition:
            return evaluate_only_except(
                definition,
                self.rule_ctx,
                where=(definition.path, definition.line_of("only")),
                name=name,
            )
        if definition.get("when") == "never":
            return RuleOutcome(False, "when: never")
        return RuleOutcome(True, "no rules: always in the pipeline")

    # -- jobs -------------------------------------------------------------------------

    def _cells(
        self, name: str, definition: YMap
    ) -> list[tuple[str, dict[str, str], tuple[int, int] | None]]:
        parallel = definition.get("parallel")
        where = self._where(definition, name, "parallel")
        if parallel is None:
            return [(name, {}, None)]
        if isinstance(parallel, int) and not isinstance(parallel, bool):
            if not 1 <= parallel <= 200:
                raise where.error("parallel must be between 1 and 200")
            return [(f"{name} {i}/{parallel}", {}, (i, parallel)) for i in range(1, parallel + 1)]
        if not isinstance(parallel, Mapping) or not isinstance(parallel.get("matrix"), list):
            raise where.error("parallel must be a number or {matrix: [...]}")
        cells: list[dict[str, str]] = []
        for entry in parallel["matrix"]:
            if not isinstance(entry, Mapping):
                raise where.error("parallel:matrix entries must be mappings of VAR: value(s)")
            keys = list(entry)
            values = [
                [str(v) for v in entry[k]] if isinstance(entry[k], list) else [str(entry[k])]
                for k in keys
            ]
            cells.extend(
                dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)
            )
        total = len(cells)
        return [
            (f"{name}: [{', '.join(cell.values())}]", cell, (i, total))
            for i, cell in enumerate(cells, 1)
        ]

    def _needs(
        self, name: str, definition: YMap, raw: Any, expanded: Mapping[str, list[str]]
    ) -> tuple[Need, ...] | None:
        if raw is None:
            return None
        where = self._where(definition, name, "needs")
        if not isinstance(raw, list):
            raise where.error("needs must be a list")
        needs: list[Need] = []
        for item in raw:
            if isinstance(item, str):
                item = {"job": item}
            if not isinstance(item, Mapping) or "job" not in item:
                if isinstance(item, Mapping) and "pipeline" in item:
                    self.warnings.append(
                        (
                            f"job {name}: needs:pipeline (another pipeline) is ignored locally",
                            where.location,
                        )
                    )
                    continue
                raise where.error("needs entries must be job names or {job: ...}")
            target = str(item["job"])
            optional = bool(item.get("optional", False))
            artifacts = bool(item.get("artifacts", True))
            matrix = (
                (item.get("parallel") or {}).get("matrix")
                if isinstance(item.get("parallel"), Mapping)
                else None
            )
            cells = expanded.get(target)
            if cells is None:
                needs.append(Need(target, optional, artifacts))  # the planner reports a missing job
            elif matrix:
                for entry in matrix:
                    values = [str(v) for v in entry.values()]
                    needs.append(Need(f"{target}: [{', '.join(values)}]", optional, artifacts))
            else:
                needs.extend(Need(cell, optional, artifacts) for cell in cells)
        return tuple(needs)

    def _jobs(
        self,
        name: str,
        definition: YMap,
        outcome: RuleOutcome,
        global_vars: Mapping[str, Variable],
        expanded: Mapping[str, list[str]],
        stages: tuple[str, ...],
    ) -> list[Job]:
        where = self._where(definition, name)
        inherit = definition.get("inherit") or {}
        inherit_vars = inherit.get("variables", True) if isinstance(inherit, Mapping) else True
        if inherit_vars is True:
            inherited = dict(global_vars)
        elif inherit_vars is False:
            inherited = {}
        else:
            inherited = {k: v for k, v in global_vars.items() if k in inherit_vars}
        own = parse_variables(
            definition.get("variables"), self._where(definition, name, "variables")
        )
        rule_vars = parse_variables(outcome.variables, where) if outcome.variables else {}
        when_text = outcome.when or definition.get("when") or "on_success"
        when = When(when_text)
        allow = parse_allow_failure(
            outcome.allow_failure
            if outcome.allow_failure is not None
            else definition.get("allow_failure"),
            self._where(definition, name, "allow_failure"),
            default=when is When.MANUAL,
        )
        before = script_lines(definition.get("before_script"), where, "before_script")
        script = script_lines(definition.get("script"), where, "script")
        after = script_lines(definition.get("after_script"), where, "after_script")
        steps = (
            (
                Step(
                    run=echo_script(before + script),
                    name="script",
                    shell=SHELL,
                    source=loc(definition, "script"),
                ),
            )
            if (before or script)
            else ()
        )
        after_steps = (
            (
                Step(
                    run=echo_script(after),
                    name="after_script",
                    shell=SHELL,
                    source=loc(definition, "after_script"),
                ),
            )
            if after
            else ()
        )
        needs_raw = outcome.needs if outcome.needs is not None else definition.get("needs")
        needs = self._needs(name, definition, needs_raw, expanded)
        deps = definition.get("dependencies")
        dependencies = None
        if deps is not None:
            dependencies = tuple(cell for d in deps for cell in expanded.get(str(d), [str(d)]))
        stage = str(definition.get("stage", "test"))
        if stage not in stages:
            raise PipelineError(
                f"chooses stage {stage!r}, which is not in stages ({', '.join(stages)})",
                path=definition.path,
                line=definition.line_of("stage"),
                job=name,
            )
        timeout = (
            parse_duration(definition["timeout"], self._where(definition, name, "timeout"))
            if "timeout" in definition
            else None
        )
        trigger = self._trigger(name, definition)
        env_name = definition.get("environment")
        if isinstance(env_name, Mapping):
            env_name = env_name.get("name")
        common: dict[str, Any] = dict(
            stage=stage,
            steps=steps,
            after_steps=after_steps,
            needs=needs,
            dependencies=dependencies,
            when=when,
            condition=Condition(outcome.expression, outcome.reason),
            artifacts=parse_artifacts(
                definition.get("artifacts"),
                self._where(definition, name, "artifacts"),
                self.warnings,
            ),
            cache=parse_cache(definition.get("cache"), self._where(definition, name, "cache")),
            timeout=timeout,
            retry=parse_retry(definition.get("retry"), self._where(definition, name, "retry")),
            allow_failure=allow,
            image=parse_image(definition.get("image"), self._where(definition, name, "image")),
            services=parse_services(
                definition.get("services"), self._where(definition, name, "services")
            ),
            resource_group=str(definition["resource_group"])
            if definition.get("resource_group")
            else None,
            shell=SHELL,
            trigger=trigger,
            tags=tuple(str(t) for t in definition.get("tags") or ()),
            environment=str(env_name) if env_name else None,
            source=loc(definition),
        )
        jobs = []
        for cell_name, cell, node in self._cells(name, definition):
            variables = {key: Variable(value) for key, value in self.predefined.items()}
            for key, value in job_variables(cell_name, stage, node).items():
                variables[key] = Variable(value)
            variables.update(inherited)
            variables.update(own)
            variables.update({k: Variable(v) for k, v in cell.items()})
            variables.update(rule_vars)
            variables.update({k: Variable(v) for k, v in self.options.variables.items()})
            variables.update({k: Variable(v, masked=True) for k, v in self.options.secrets.items()})
            jobs.append(
                Job(
                    name=cell_name,
                    variables=variables,
                    matrix=cell,
                    matrix_of=name if node else None,
                    node_index=node[0] if node else None,
                    node_total=node[1] if node else None,
                    **common,
                )
            )
        return jobs

    def _trigger(self, name: str, definition: YMap) -> Trigger | None:
        raw = definition.get("trigger")
        if raw is None:
            return None
        where = self._where(definition, name, "trigger")
        if isinstance(raw, str):
            raise where.error(
                f"trigger of project {raw!r} (a downstream project) cannot run locally"
            )
        if not isinstance(raw, Mapping) or "include" not in raw:
            raise where.error("only trigger: include: <local file> (a child pipeline) runs locally")
        include = raw["include"]
        files: list[str] = []
        for item in include if isinstance(include, list) else [include]:
            if isinstance(item, str):
                files.append(item)
            elif isinstance(item, Mapping) and "local" in item:
                files.append(str(item["local"]))
            else:
                raise where.error("trigger:include must name local files (child pipelines)")
        forward = raw.get("forward") or {}
        return Trigger(
            tuple(files),
            depend=raw.get("strategy") == "depend",
            forward_variables=bool(forward.get("pipeline_variables", True))
            if isinstance(forward, Mapping)
            else True,
        )

    def _child(self, job: Job) -> Pipeline:
        assert job.trigger is not None
        first = job.trigger.include[0].lstrip("/")
        path = self.root / first
        if not path.is_file():
            src = job.source
            raise PipelineError(
                f"trigger include {first!r}: no such file",
                path=src.path if src else None,
                line=src.line if src else None,
                job=job.name,
            )
        return type(self)(path, self.options).load()


def load_gitlab(path: Path, options: LoadOptions) -> Pipeline:
    return GitLabLoader(path, options).load()
