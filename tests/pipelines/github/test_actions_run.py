"""The built-in action equivalents, really run: setup-python with a local interpreter,
setup-uv without uv, actions/cache miss then hit, artifacts between jobs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from opsforge.pipelines.records import JobStatus

from .conftest import load, log_of, run, write_workflow

VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def test_setup_python_uses_the_local_interpreter(repo: Path) -> None:
    path = write_workflow(
        repo,
        f"""\
on: push
jobs:
  py:
    runs-on: ubuntu-latest
    steps:
      - id: setup
        uses: actions/setup-python@v5
        with:
          python-version: '{VERSION}'
      - run: |
          python -c 'import sys; print("running", "%d.%d" % sys.version_info[:2])'
          echo "reported ${{{{ steps.setup.outputs.python-version }}}}"
  missing:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@v5
        with: {{python-version: '2.1'}}
""",
    )
    result = run(repo, load(repo, path))
    log = log_of(result.records["py"])
    assert result.records["py"].status is JobStatus.SUCCESS, log
    assert f"running {VERSION}" in log
    assert f"reported {VERSION}." in log
    missing = log_of(result.records["missing"])
    assert result.records["missing"].status is JobStatus.FAILED
    assert "::error::setup-python: no Python 2.1 on this host" in missing


def test_setup_uv_says_when_uv_is_missing(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  uv:
    runs-on: ubuntu-latest
    steps:
      - id: uv
        uses: astral-sh/setup-uv@v6
      - run: echo "uv ${{ steps.uv.outputs.uv-version }}"
""",
    )
    result = run(repo, load(repo, path))
    log = log_of(result.records["uv"])
    if shutil.which("uv"):
        assert result.records["uv"].status is JobStatus.SUCCESS, log
    else:
        assert result.records["uv"].status is JobStatus.FAILED
        assert "uv is not installed on this host" in log


def test_cache_miss_then_hit_and_artifacts_between_jobs(repo: Path) -> None:
    (repo / "deps.txt").write_text("one\n")
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - id: cache
        uses: actions/cache@v4
        with:
          path: .cache
          key: deps-${{ hashFiles('deps.txt') }}
          restore-keys: deps-
      - run: |
          echo "hit=${{ steps.cache.outputs.cache-hit }}"
          if [ -f .cache/built ]; then echo "cached: $(cat .cache/built)"
          else mkdir -p .cache out && echo fresh > .cache/built; fi
          mkdir -p out/sub && echo payload > out/sub/file.txt && echo no > out/sub/skip.log
      - uses: actions/upload-artifact@v4
        with:
          name: bundle
          path: |
            out
            !out/**/*.log
  use:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with: {name: bundle, path: got}
      - run: cat got/sub/file.txt && test ! -e got/sub/skip.log
""",
    )
    first = run(repo, load(repo, path))
    assert first.records["use"].status is JobStatus.SUCCESS, log_of(first.records["use"])
    assert "payload" in log_of(first.records["use"])
    assert "hit=false" in log_of(first.records["build"])
    second = run(repo, load(repo, path))
    log = log_of(second.records["build"])
    assert "hit=true" in log
    assert "cached: fresh" in log
