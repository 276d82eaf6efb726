"""The declarative Jenkinsfile subset: valid files into jobs, invalid ones with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.model import When
from opsforge.types import Secret

from ..github.conftest import git, load

JENKINSFILE = """\
// a comment
pipeline {
    agent any
    parameters {
        string(name: 'TARGET', defaultValue: 'staging')
        booleanParam(name: 'FULL', defaultValue: false)
    }
    environment {
        APP = 'demo'
        LABEL = "${env.APP}-${params.TARGET}"   /* GString */
        TOKEN = credentials('deploy-token')
    }
    options {
        timeout(time: 10, unit: 'MINUTES')
        retry(2)
    }
    stages {
        stage('Build') {
            steps {
                sh 'make build'
                sh script: "echo building $LABEL", label: 'say'
                echo "it's ${env.LABEL}"
                archiveArtifacts artifacts: 'dist/**, build/*.log', fingerprint: true
            }
        }
        stage('Test') {
            parallel {
                stage('Unit') {
                    steps {
                        timeout(time: 30, unit: 'SECONDS') {
                            sh '''
                              ./run-unit
                            '''
                        }
                        junit 'reports/unit/*.xml'
                    }
                }
                stage('Lint') {
                    agent { docker { image 'python:3.12' } }
                    steps { dir('src') { withEnv(['STRICT=1']) { sh 'lint' } } }
                }
            }
        }
        stage('Platforms') {
            matrix {
                axes {
                    axis { name 'OS'; values 'linux', 'mac' }
                    axis { name 'ARCH'; values 'amd64', 'arm64' }
                }
                excludes {
                    exclude {
                        axis { name 'OS'; values 'mac' }
                        axis { name 'ARCH'; notValues 'arm64' }
                    }
                }
                stages {
                    stage('Package') { steps { sh 'package $OS $ARCH' } }
                }
            }
        }
        stage('Nightly only') {
            when { expression { return params.FULL } }
            steps { sh 'long-tests' }
        }
        stage('Deploy') {
            when {
                branch 'main'
                not { environment name: 'TARGET', value: 'nowhere' }
                expression { env.APP.startsWith('de') && params.TARGET != 'prod' }
            }
            input { message 'Deploy?' }
            steps { sh './deploy $TARGET' }
            post {
                failure { echo 'deploy failed' }
                always { sh 'cleanup' }
            }
        }
    }
    post {
        always { echo 'done' }
        failure { sh 'notify' }
    }
}
"""


def _write(root: Path, text: str, name: str = "Jenkinsfile") -> Path:
    (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", name)
    return root / name


def test_declarative_pipeline_into_jobs(repo: Path) -> None:
    pipeline = load(
        repo, _write(repo, JENKINSFILE), "jenkins", secrets={"deploy-token": Secret("tok-123")}
    )
    assert pipeline.format == "jenkins"
    assert pipeline.job_names == (
        "Build",
        "Unit",
        "Lint",
        "Package (linux, amd64)",
        "Package (linux, arm64)",
        "Package (mac, arm64)",
        "Deploy",
        "post: always",
        "post: failure",
    )
    assert [e.name for e in pipeline.excluded] == ["Nightly only"]
    assert "when expression (line 62) is False" in pipeline.excluded[0].reason
    build = pipeline.job("Build")
    assert [s.run for s in build.steps] == [
        "make build",
        "echo building demo-staging",
        "printf '%s\\n' 'it'\"'\"'s demo-staging'",
    ]
    assert build.steps[1].name == "say"
    assert build.artifacts is not None
    assert build.artifacts.paths == ("dist/**", "build/*.log")
    assert build.timeout == 600
    assert build.retry.max == 1
    assert build.variables["LABEL"].value == "demo-staging"
    assert isinstance(build.variables["TOKEN"].value, Secret)
    assert build.variables["BRANCH_NAME"].value == "main"
    unit = pipeline.job("Unit")
    assert unit.need_names() == ("Build",)
    assert unit.steps[0].run.strip() == "./run-unit"
    assert unit.steps[0].timeout == 30
    assert unit.artifacts is not None
    assert unit.artifacts.reports["junit"] == ("reports/unit/*.xml",)
    lint = pipeline.job("Lint")
    assert lint.image is not None
    assert lint.image.name == "python:3.12"
    assert lint.steps[0].working_directory == "src"
    assert dict(lint.steps[0].env) == {"STRICT": "1"}
    package = pipeline.job("Package (mac, arm64)")
    assert package.need_names() == ("Unit", "Lint")
    assert package.variables["OS"].value == "mac"
    deploy = pipeline.job("Deploy")
    assert deploy.when is When.MANUAL
    assert deploy.need_names() == (
        "Package (linux, amd64)",
        "Package (linux, arm64)",
        "Package (mac, arm64)",
    )
    assert [s.run for s in deploy.after_steps] == ["printf '%s\\n' 'deploy failed'", "cleanup"]
    assert pipeline.job("post: always").when is When.ALWAYS
    assert pipeline.job("post: failure").when is When.ON_FAILURE
    assert len(pipeline.job("post: always").need_names()) == 7


def test_when_branch_on_another_branch(repo: Path) -> None:
    path = _write(repo, JENKINSFILE)
    pipeline = load(repo, path, "jenkins", ref="feature/x", secrets={"deploy-token": Secret("t")})
    reasons = {e.name: e.reason for e in pipeline.excluded}
    assert "when branch 'main' (branch is 'feature/x')" in reasons["Deploy"]
    assert "post: always" in pipeline.job_names
    assert (
        load(
            repo, path, "jenkins", inputs={"FULL": "true"}, secrets={"deploy-token": Secret("t")}
        ).job("Nightly only")
        is not None
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("node {\n  stage('x') { sh 'make' }\n}\n", 1, "scripted pipelines (node { })"),
        (
            "pipeline {\n  agent any\n  stages {\n    stage('a') {\n      steps {\n"
            "        script { def x = 1 }\n      }\n    }\n  }\n}\n",
            6,
            "script { } blocks run Groovy",
        ),
        (
            "pipeline {\n  stages {\n    stage('a') {\n      steps { sh 'x'\n    }\n  }\n",
            7,
            "a '{' block is not closed",
        ),
        (
            "pipeline {\n  stages {\n    stage('a') {\n      steps { bat 'dir' }\n    }\n  }\n}\n",
            4,
            "step 'bat' is not supported",
        ),
        ("pipeline {\n  agent any\n  stagez { }\n}\n", 3, "unknown section 'stagez'"),
        (
            "pipeline {\n  stages {\n    stage('a') {\n      steps { sh 'it\n' }\n    }\n  }\n}\n",
            4,
            "a newline inside a one-line string",
        ),
        (
            "pipeline {\n  environment { T = credentials('nope') }\n  stages {\n"
            "    stage('a') { steps { sh 'x' } }\n  }\n}\n",
            2,
            "--secret nope=VALUE",
        ),
        (
            "pipeline {\n  stages {\n    stage('a') {\n      when { expression { env.X.foo() } }\n"
            "      steps { sh 'x' }\n    }\n  }\n}\n",
            4,
            "method .foo() is not supported",
        ),
        (
            "pipeline {\n  stages {\n    stage('a') { steps { sh 'x' } }\n"
            "    stage('a') { steps { sh 'y' } }\n  }\n}\n",
            4,
            "stage name 'a' is used twice",
        ),
        (
            "pipeline {\n  stages {\n    stage('a') {\n      options { timeout(time: 0) }\n"
            "      steps { sh 'x' }\n    }\n  }\n}\n",
            4,
            "timeout: needs time: N (> 0)",
        ),
        ("def x = 1\nnode { sh 'x' }\n", 1, "only a declarative pipeline { } block"),
        ("println 'hi'\n", 1, "only a declarative pipeline"),
        (
            "pipeline {\n  stages {\n    stage('a') {\n      steps { sh \"${env.X.y(}\" }\n"
            "    }\n  }\n}\n",
            4,
            "in '${env.X.y(}'",
        ),
    ],
)
def test_invalid_jenkinsfiles_name_the_line(repo: Path, text: str, line: int, message: str) -> None:
    path = _write(repo, text)
    with pytest.raises(PipelineError) as info:
        load(repo, path, "jenkins")
    assert message in str(info.value)
    assert str(info.value).startswith(f"Jenkinsfile:{line}: "), str(info.value)
