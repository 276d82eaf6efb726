"""How each front-end fills ``Job.services``, and GitLab's default service aliases."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.model import Service
from opsforge.pipelines.services import default_aliases

from .conftest import ProjectFactory, load
from .github.conftest import load as load_github
from .github.conftest import repo, write_workflow

__all__ = ["repo"]  # the git project fixture of the GitHub tests


@pytest.mark.parametrize(
    ("image", "aliases"),
    [
        ("tutum/wordpress:latest", ("tutum__wordpress", "tutum-wordpress")),
        ("postgres:16", ("postgres",)),
        ("redis", ("redis",)),
        ("registry.example.com/group/db:1.2@sha256:abc", (
            "registry.example.com__group__db", "registry.example.com-group-db",
        )),
        ("localhost:5000/db:1", ()),  # a registry port makes no hostname
    ],
)  # fmt: skip
def test_gitlab_default_aliases(image: str, aliases: tuple[str, ...]) -> None:
    assert default_aliases(image) == aliases


def test_gitlab_services_keep_every_key(project: ProjectFactory) -> None:
    root = project(
        """
        a:
          script: [x]
          services:
            - redis:7
            - name: postgres:16
              alias: db, pg
              entrypoint: [docker-entrypoint.sh]
              command: [postgres, -c, fsync=off]
              variables: {POSTGRES_PASSWORD: $PW, N: 3}
        """
    )
    pipeline = load(root)
    assert pipeline.job("a").services == (
        Service("redis:7"),
        Service(
            "postgres:16",
            alias="db, pg",
            command=("postgres", "-c", "fsync=off"),
            entrypoint=("docker-entrypoint.sh",),
            variables={"POSTGRES_PASSWORD": "$PW", "N": "3"},
        ),
    )
    assert not [w for w, _ in pipeline.warnings if "services" in w]


def test_gitlab_service_command_must_be_a_list(project: ProjectFactory) -> None:
    root = project("a:\n  script: [x]\n  services: [{name: db:1, command: run it}]\n")
    with pytest.raises(PipelineError, match=r"\.gitlab-ci\.yml:3.*command must be a list"):
        load(root)


def test_github_services_env_options_and_empty_image(repo: Path) -> None:
    path = write_workflow(
        repo,
        textwrap.dedent(
            """
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                container: busybox
                services:
                  db:
                    image: postgres:16
                    env: {POSTGRES_PASSWORD: pw}
                    ports: ['5432:5432']
                    options: >-
                      --health-cmd "pg_isready -U postgres" --health-interval 2s
                  skipped:
                    image: ${{ '' }}
                steps: [{run: 'true'}]
            """
        ),
    )
    (job,) = load_github(repo, path).jobs
    assert job.services == (
        Service(
            "postgres:16",
            alias="db",
            variables={"POSTGRES_PASSWORD": "pw"},
            options=("--health-cmd", "pg_isready -U postgres", "--health-interval", "2s"),
        ),
    )


def test_circleci_secondary_images_are_services(repo: Path) -> None:
    config = repo / ".circleci" / "config.yml"
    config.parent.mkdir()
    config.write_text(
        textwrap.dedent(
            """
            version: 2.1
            jobs:
              build:
                docker:
                  - image: cimg/base:current
                  - image: postgres:16
                    environment: {POSTGRES_PASSWORD: pw}
                    command: postgres -c fsync=off
                  - image: redis:7
                    name: cache
                    entrypoint: [redis-server, --save, '']
                steps: [{run: 'true'}]
            workflows:
              main: {jobs: [build]}
            """
        )
    )
    (job,) = load_github(repo, config, fmt="circleci").jobs
    assert job.services == (
        Service(
            "postgres:16",
            command=("postgres", "-c", "fsync=off"),
            variables={"POSTGRES_PASSWORD": "pw"},
        ),
        Service("redis:7", alias="cache", entrypoint=("redis-server", "--save", "")),
    )
