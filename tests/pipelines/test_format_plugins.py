"""A pipeline format from another installed package, found through the entry-point group
``opsforge.pipeline_formats`` — as a plugin author ships one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import ProjectFactory

PLUGIN = """
from pathlib import Path

from opsforge.pipelines.formats import Frontend, LoadOptions
from opsforge.pipelines.model import Job, Pipeline, SourceLocation, Step


def load(path: Path, options: LoadOptions) -> Pipeline:
    jobs = tuple(
        Job(line.split(":", 1)[0].strip(), stage="test", steps=(Step(run=line.split(":", 1)[1]),))
        for line in path.read_text().splitlines()
        if ":" in line
    )
    return Pipeline("toy", "toy", SourceLocation(path.name, 1), options.root, jobs)


FRONTEND = Frontend(
    name="toy",
    order=90,
    default_paths=("pipeline.toy",),
    detect=lambda path: path.suffix == ".toy",
    load=load,
    description="one job per line: NAME: COMMAND",
)
"""


def _install_plugin(site: Path) -> None:
    """The package and its dist-info, as pip would leave them in site-packages."""
    (site / "opsforge_toyfmt").mkdir(parents=True)
    (site / "opsforge_toyfmt" / "__init__.py").write_text(PLUGIN)
    info = site / "opsforge_toyfmt-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: opsforge-toyfmt\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[opsforge.pipeline_formats]\ntoy = opsforge_toyfmt:FRONTEND\n"
    )


def test_a_plugin_format_is_detected_listed_and_run(
    project: ProjectFactory, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    _install_plugin(site)
    root = project(files={"pipeline.toy": "hello: echo hello from a plugin\n"})
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "OPSFORGE_STATE_DIR": str(tmp_path / "state"),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "opsforge", "pipeline", *args],
            cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    ran = cli("run", "--in-place")
    assert ran.returncode == 0, ran.stderr
    assert "[hello] hello from a plugin" in ran.stdout
    listed = cli("list", "--format", "toy")
    assert listed.returncode == 0, listed.stderr
    assert "hello" in listed.stdout
    refused = cli("run", "--input", "x=1")
    assert refused.returncode == 2
    assert "--input: toy pipelines take no inputs; use --var" in refused.stderr
    unknown = cli("list", "--format", "nope")
    assert unknown.returncode == 2
    assert "toy" in unknown.stderr  # the plugin is among the formats offered
