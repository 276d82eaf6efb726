"""``include:``: local files (globs) from the project; remote, project, template and
component includes only from a vendored directory, never fetched.

Vendored layout (``--vendor-dir``, default ``<root>/.opsforge/vendor``)::

    remote/<host>/<path>                    include: remote: https://<host>/<path>
    project/<group>/<project>/<file>        include: project: <group>/<project>, file: <file>
      (or project/<group>/<project>@<ref>/<file> for a given ref)
    template/<name>                         include: template: <name>
    component/<host>/<path>@<version>.yml   include: component: <host>/<path>@<version>
      (or .../<path>@<version>/template.yml)

Missing ones are collected and reported together (:class:`MissingIncludes`), or left
out with a warning each under ``--allow-missing-includes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.gitlab.yamlsource import YMap, load_yaml_file
from opsforge.pipelines.model import SourceLocation

__all__ = ["IncludeResolver", "MissingIncludes", "deep_merge"]

MAX_INCLUDES = 150


class MissingIncludes(PipelineError):
    """Includes that are not vendored; ``missing`` lists (what, expected path, where)."""

    def __init__(self, missing: list[tuple[str, str, str]], path: str) -> None:
        lines = "\n".join(
            f"  {where}: {what} (expected at {expected})" for what, expected, where in missing
        )
        super().__init__(
            f"{len(missing)} include(s) are not available locally (opsforge never fetches "
            f"them); vendor them or run with --allow-missing-includes:\n{lines}",
            path=path,
        )
        self.missing = missing


def deep_merge(base: Any, override: Any) -> Any:
    """GitLab's merge: mappings merge key by key (recursively); anything else is replaced."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = YMap(base)
        merged.path = getattr(override, "path", getattr(base, "path", ""))
        merged.line = getattr(override, "line", getattr(base, "line", 0))
        merged.key_lines = {**getattr(base, "key_lines", {}), **getattr(override, "key_lines", {})}
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return override


class IncludeResolver:
    """Loads the main file and everything it includes (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        vendor_dir: Path | None,
        *,
        allow_missing: bool,
        rule_check: Any = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.variables = variables or {}  # what inputs' expand_vars expands
        self.vendor = vendor_dir or root / ".opsforge" / "vendor"
        self.allow_missing = allow_missing
        self.rule_check = rule_check  # callable(rules, where) -> bool for include:rules
        self.missing: list[tuple[str, str, str]] = []
        self.warnings: list[tuple[str, SourceLocation | None]] = []
        self.files: list[str] = []

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def load(self, path: Path, inputs: Mapping[str, str] | None = None) -> YMap:
        """The main file (its ``spec:inputs`` set by ``inputs``: ``--input`` text) and
        everything it includes, merged."""
        config = self._load_file(path, depth=0, inputs=inputs, cli=True)
        if self.missing and not self.allow_missing:
            raise MissingIncludes(self.missing, self.display(path))
        for what, expected, _where in self.missing:
            self.warnings.append(
                (f"include {what} not vendored (expected at {expected}); left out", None)
            )
        return config

    def _load_file(
        self, path: Path, depth: int, inputs: Mapping[str, Any] | None = None, cli: bool = False
    ) -> YMap:
        if len(self.files) > MAX_INCLUDES:
            raise PipelineError(
                f"more than {MAX_INCLUDES} included files (an include loop?)",
                path=self.display(path),
            )
        name = self.display(path)
        self.files.append(name)
        data = load_yaml_file(path, name, inputs, cli_inputs=cli, variables=self.variables)
        if data is None:
            data = YMap()
            data.path = name
        if not isinstance(data, YMap):
            raise PipelineError(
                "the top level must be a mapping of jobs and keywords", path=name, line=1
            )
        includes = data.pop("include", None)
        if includes is None:
            return data
        merged: Any = YMap()
        for spec in includes if isinstance(includes, list) else [includes]:
            inputs = spec.get("inputs") if isinstance(spec, Mapping) else None
            for file in self._resolve(spec, data, depth):
                merged = deep_merge(merged, self._load_file(file, depth + 1, inputs or {}))
        return deep_merge(merged, data)  # type: ignore[no-any-return]

    def _resolve(self, spec: Any, parent: YMap, depth: int) -> list[Path]:
        where = f"{parent.path}:{parent.line_of('include')}"
        if isinstance(spec, str):
            spec_map: Mapping[str, Any] = {"remote": spec} if "://" in spec else {"local": spec}
        elif isinstance(spec, Mapping):
            spec_map = spec
        else:
            raise PipelineError(
                "include entries must be strings or mappings",
                path=parent.path,
                line=parent.line_of("include"),
            )
        rules = spec_map.get("rules")
        if rules is not None and self.rule_check is not None and not self.rule_check(rules, where):
            return []
        if "local" in spec_map:
            return self._local(str(spec_map["local"]), parent)
        if "remote" in spec_map:
            url = urlparse(str(spec_map["remote"]))
            return self._vendored(
                f"remote {spec_map['remote']}",
                [Path("remote") / url.netloc / url.path.lstrip("/")],
                where,
            )
        if "project" in spec_map:
            project = str(spec_map["project"]).strip("/")
            files = spec_map.get("file") or []
            ref = spec_map.get("ref")
            found: list[Path] = []
            for file in files if isinstance(files, list) else [files]:
                rel = str(file).lstrip("/")
                candidates = [Path("project") / f"{project}@{ref}" / rel] if ref else []
                candidates.append(Path("project") / project / rel)
                found += self._vendored(f"project {project} file {file}", candidates, where)
            return found
        if "template" in spec_map:
            name = str(spec_map["template"])
            return self._vendored(f"template {name}", [Path("template") / name], where)
        if "component" in spec_map:
            comp = str(spec_map["component"])
            return self._vendored(
                f"component {comp}",
                [Path("component") / f"{comp}.yml", Path("component") / comp / "template.yml"],
                where,
            )
        raise PipelineError(
            f"unknown include type (keys: {', '.join(spec_map)}); "
            "use local, remote, project, template or component",
            path=parent.path,
            line=parent.line_of("include"),
        )

    def _local(self, pattern: str, parent: YMap) -> list[Path]:
        rel = pattern.lstrip("/")
        if any(ch in rel for ch in "*?["):
            files = sorted(p for p in self.root.glob(rel) if p.is_file())
        else:
            files = [self.root / rel] if (self.root / rel).is_file() else []
        if not files:
            raise PipelineError(
                f"include local {pattern!r}: no such file in {self.root}",
                path=parent.path,
                line=parent.line_of("include"),
            )
        return files

    def _vendored(self, what: str, candidates: list[Path], where: str) -> list[Path]:
        for candidate in candidates:
            path = self.vendor / candidate
            if path.is_file():
                return [path]
        self.missing.append((what, str(self.vendor / candidates[0]), where))
        return []
