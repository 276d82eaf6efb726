"""``uses:`` steps: built-in equivalents of the common actions, local composite actions.

* ``actions/checkout``: the job's workdir already is this checkout (a no-op step).
* ``actions/setup-python`` / ``astral-sh/setup-uv``: a local interpreter / ``uv`` on this
  host, put first on ``PATH`` through ``GITHUB_PATH``; a version this host lacks fails
  the step with the versions looked for.
* ``actions/upload-artifact`` / ``download-artifact``: the local artifact store
  (built-in step kinds ``upload_artifact``/``download_artifact``).
* ``actions/cache`` (and ``/restore``, ``/save``): ``cache_restore`` at the step,
  ``cache_save`` after the job when it succeeded and the key was not an exact hit.
* ``./path``: a composite action (``action.yml`` with ``runs.using: composite``), its
  steps inlined with their own ``inputs`` and ``steps`` contexts; its outputs become the
  step's outputs.

Any other action is left out with a warning (an error with ``--strict``).
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.github.expr_eval import Scope
from opsforge.pipelines.github.expr_values import to_string
from opsforge.pipelines.github.expressions import Where, compile_template
from opsforge.pipelines.github.yaml_source import LineMap, line_of, load_yaml, location
from opsforge.pipelines.model import Condition, RuntimeView, Step

if TYPE_CHECKING:
    from opsforge.pipelines.github.steps import ScopeMaker, StepBuilder

__all__ = ["action_steps"]

_SETUP_PYTHON = r"""want={want}
found= version=
for candidate in "python$want" python3 python; do
  [ -n "$want" ] || candidate=python3
  exe=$(command -v "$candidate" 2>/dev/null) || continue
  version=$("$exe" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])') || continue
  case "$version" in "$want"|"$want".*|*"$want") found=$exe; break ;; esac
  [ -n "$want" ] || {{ found=$exe; break; }}
done
if [ -z "$found" ]; then
  echo "::error::setup-python: no Python $want on this host" \
    "(looked for python$want, python3, python on PATH)" >&2
  exit 1
fi
bin="${{RUNNER_TEMP:-/tmp}}/opsforge-setup-python-$(id -u)/$version/bin"
mkdir -p "$bin"
for name in python python3; do ln -sf "$found" "$bin/$name"; done
echo "$bin" >> "$GITHUB_PATH"
echo "python-version=$version" >> "$GITHUB_OUTPUT"
echo "python-path=$found" >> "$GITHUB_OUTPUT"
echo "setup-python: using local $found ($version)"
"""

_SETUP_UV = r"""exe=$(command -v uv 2>/dev/null) || {{
  echo "::error::setup-uv: uv is not installed on this host (it is used from PATH)" >&2
  exit 1
}}
version=$("$exe" --version | awk '{{print $2}}')
echo "uv-version=$version" >> "$GITHUB_OUTPUT"
echo "uv-path=$exe" >> "$GITHUB_OUTPUT"
{python}echo "setup-uv: using local $exe ($version)"
"""


def _with(raw: LineMap) -> Mapping[str, Any]:
    value = raw.get("with") or {}
    if not isinstance(value, Mapping):
        raise PipelineError(
            "with: must be a mapping", path=getattr(raw, "path", None), line=raw.line_of("with")
        )
    return value


def action_steps(
    b: StepBuilder, raw: LineMap, full_id: str, scope_maker: ScopeMaker, where: Where
) -> list[Step]:
    uses = to_string(raw["uses"]).strip()
    name, _, _ref = uses.partition("@")
    key = name.lower()
    if uses.startswith("./"):
        return _composite(b, raw, uses, full_id, scope_maker)
    with_t = {
        str(k): compile_template(to_string(v), b.where(_with(raw), str(k)))
        for k, v in _with(raw).items()
    }
    label = to_string(raw.get("name", "")) or uses

    def rendered(view: RuntimeView) -> dict[str, str]:
        scope = scope_maker(view, {})
        return {k: to_string(t.render(scope)) for k, t in with_t.items()}

    base = Step(name=label, id=full_id, source=location(raw), params={"uses": uses}, echo=True)
    if key == "actions/checkout":
        return [replace(base, kind="checkout")]
    if key == "actions/setup-python":
        return [_script_step(b, raw, base, rendered, _python_script)]
    if key == "astral-sh/setup-uv":
        return [_script_step(b, raw, base, rendered, _uv_script)]
    if key == "actions/upload-artifact":
        return [_upload(base, rendered)]
    if key == "actions/download-artifact":
        return [
            _kind_step(
                base,
                "download_artifact",
                rendered,
                lambda w: {"name": w.get("name") or None, "path": w.get("path") or "."},
            )
        ]
    if key in ("actions/cache", "actions/cache/restore", "actions/cache/save"):
        return _cache(b, key, base, rendered)
    message = f"action {uses!r} has no local equivalent; step skipped"
    if b.strict:
        raise where.error(f"action {uses!r} has no local equivalent (--strict)")
    b.warnings.append((f"job {b.job_id!r}: {message}", location(raw)))
    return []


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _python_script(w: Mapping[str, str]) -> str:
    want = w.get("python-version", "").strip().removesuffix(".x").removesuffix("-dev")
    return _SETUP_PYTHON.format(want=shlex.quote(want))


def _uv_script(w: Mapping[str, str]) -> str:
    python = w.get("python-version", "").strip()
    line = f'echo UV_PYTHON={shlex.quote(python)} >> "$GITHUB_ENV"\n' if python else ""
    return _SETUP_UV.format(python=line)


def _script_step(b: StepBuilder, raw: LineMap, base: Step, rendered: Any, script: Any) -> Step:
    static = replace(base, run=script({}), shell="bash --noprofile --norc -eo pipefail {0}")

    def prepare(view: RuntimeView) -> Step:
        return replace(
            static, run=script(rendered(view)), env=b.runtime_env(view, {}), prepare=None
        )

    return replace(static, prepare=prepare)


def _kind_step(base: Step, kind: str, rendered: Any, params: Any) -> Step:
    static = replace(base, kind=kind, params={**base.params, **params({})})

    def prepare(view: RuntimeView) -> Step:
        return replace(static, params={**base.params, **params(rendered(view))}, prepare=None)

    return replace(static, prepare=prepare)


def _upload(base: Step, rendered: Any) -> Step:
    """upload-artifact stores files relative to the least common ancestor of its search
    paths (as GitHub does): the step runs from that directory."""
    static = replace(base, kind="upload_artifact", params={**base.params, "name": "artifact"})

    def prepare(view: RuntimeView) -> Step:
        w = rendered(view)
        patterns = _lines(w.get("path", ""))
        root = _search_root(view.workdir, [p for p in patterns if not p.startswith("!")])
        inside = [_under(p, root) for p in patterns if not p.startswith("!")]
        exclude = [_under(p[1:], root) for p in patterns if p.startswith("!")]
        return replace(
            static,
            prepare=None,
            working_directory=str(root) if root.parts else None,
            params={
                **base.params,
                "name": w.get("name") or "artifact",
                "path": inside,
                "exclude": exclude,
                "if-no-files-found": w.get("if-no-files-found") or "warn",
            },
        )

    return replace(static, prepare=prepare)


def _literal(pattern: str) -> Path:
    parts: list[str] = []
    for part in Path(pattern.strip().removeprefix("./")).parts:
        if any(c in part for c in "*?[{"):
            break
        parts.append(part)
    return Path(*parts) if parts else Path()


def _search_root(workdir: Path, patterns: list[str]) -> Path:
    """The least common ancestor of the search paths: a directory itself, a file's
    directory, a glob's part before its first wildcard."""
    roots = []
    for pattern in patterns:
        literal = _literal(pattern)
        is_glob = literal != Path(pattern.strip().removeprefix("./"))
        roots.append(literal.parent if not is_glob and (workdir / literal).is_file() else literal)
    common: list[str] = []
    for parts in zip(*(r.parts for r in roots), strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return Path(*common) if common else Path()


def _under(pattern: str, root: Path) -> str:
    text = pattern.strip().removeprefix("./")
    if root.parts and Path(text).is_relative_to(root):
        rel = str(Path(text).relative_to(root))
        return rel if rel != "." else "**"
    return text


def _cache(b: StepBuilder, key: str, base: Step, rendered: Any) -> list[Step]:
    state: dict[str, Any] = {}

    def params(w: Mapping[str, str]) -> dict[str, Any]:
        found = {
            "key": w.get("key", ""),
            "paths": _lines(w.get("path", "")),
            "restore_keys": _lines(w.get("restore-keys", "")),
        }
        state.update(found)
        return found

    restore = _kind_step(base, "cache_restore", rendered, params)
    save = _kind_step(replace(base, name=f"Post {base.name}"), "cache_save", rendered, params)
    if key == "actions/cache/save":
        return [save]
    if key == "actions/cache/restore":
        return [restore]

    def save_after(view: RuntimeView) -> Step:
        return replace(save, params={**base.params, **state}, prepare=None)

    def should_save(view: RuntimeView) -> bool:
        restored = view.steps.get(base.id or "")
        hit = restored is not None and restored.outputs.get("cache-hit") == "true"
        return view.job_status == "success" and not hit and bool(state)

    b.after_steps.append(
        replace(
            save,
            prepare=save_after,
            condition=Condition(
                expression="success() && !steps.cache.outputs.cache-hit",
                reason="actions/cache saves after a successful job on a miss",
                check=should_save,
            ),
        )
    )
    return [restore]


def _composite(
    b: StepBuilder, raw: LineMap, uses: str, full_id: str, scope_maker: ScopeMaker
) -> list[Step]:
    where = b.where(raw, "uses")
    directory = (b.root / uses).resolve()
    action_file = next(
        (directory / n for n in ("action.yml", "action.yaml") if (directory / n).is_file()), None
    )
    if action_file is None:
        raise where.error(f"local action {uses!r}: no action.yml in {directory}")
    shown = (
        str(action_file.relative_to(b.root.resolve()))
        if action_file.is_relative_to(b.root.resolve())
        else str(action_file)
    )
    action = load_yaml(action_file, shown)
    runs = action.get("runs") if isinstance(action, Mapping) else None
    if not isinstance(runs, Mapping) or to_string(runs.get("using")) != "composite":
        raise where.error(
            f"local action {uses!r} is not a composite action "
            f"(runs.using: composite); only those run locally"
        )
    declared = action.get("inputs") or {}
    with_raw = _with(raw)
    missing = [
        n
        for n, spec in declared.items()
        if isinstance(spec, Mapping)
        and spec.get("required")
        and "default" not in spec
        and n not in with_raw
    ]
    if missing:
        raise where.error(f"local action {uses!r}: required input(s) missing: {', '.join(missing)}")
    inputs_t = {
        str(n): compile_template(
            to_string(spec.get("default", "")), Where(shown, line_of(spec), b.job_id)
        )
        for n, spec in declared.items()
        if isinstance(spec, Mapping)
    }
    inputs_t.update(
        {
            str(k): compile_template(to_string(v), b.where(with_raw, str(k)))
            for k, v in with_raw.items()
        }
    )
    prefix = f"{full_id}/"

    def inner_scope(view: RuntimeView, extra_env: Mapping[str, Any]) -> Scope:
        outer = scope_maker(view, extra_env)
        contexts = dict(outer.contexts)
        contexts["inputs"] = {k: t.render(outer) for k, t in inputs_t.items()}
        contexts["steps"] = {
            k[len(prefix) :]: v for k, v in outer.contexts["steps"].items() if k.startswith(prefix)
        }
        return Scope(contexts, outer.workspace, outer.status)

    inner_builder = replace(b, path=shown, default_shell=None, default_workdir=None)
    inner_builder.warnings = b.warnings
    inner_builder.after_steps = b.after_steps
    for step in runs.get("steps") or []:
        if isinstance(step, LineMap) and "run" in step and "shell" not in step:
            raise inner_builder.where(step).error("a composite action's run step needs shell:")
    steps = inner_builder.build_all(runs.get("steps"), inner_scope, prefix)
    b.counter = inner_builder.counter
    outputs = action.get("outputs") or {}
    if outputs:
        steps.append(_outputs_step(outputs, shown, b, full_id, inner_scope))
    return steps


def _outputs_step(
    outputs: Mapping[str, Any], shown: str, b: StepBuilder, full_id: str, inner_scope: ScopeMaker
) -> Step:
    templates = {
        str(n): compile_template(
            to_string(spec.get("value", "") if isinstance(spec, Mapping) else spec),
            Where(shown, line_of(spec), b.job_id),
        )
        for n, spec in outputs.items()
    }
    static = Step(name="outputs of the composite action", id=full_id, run=":")

    def prepare(view: RuntimeView) -> Step:
        scope = inner_scope(view, {})
        lines = []
        for name, template in templates.items():
            mark = f"ghadelimiter_{uuid.uuid4().hex}"
            lines += [f"{name}<<{mark}", to_string(template.render(scope)), mark]
        fence = f"OPSFORGE_{uuid.uuid4().hex}"
        body = "\n".join(lines)
        return replace(
            static, run=f"cat >> \"$GITHUB_OUTPUT\" <<'{fence}'\n{body}\n{fence}\n", prepare=None
        )

    return replace(static, prepare=prepare)
