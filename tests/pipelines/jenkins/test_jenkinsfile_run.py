"""Declarative Jenkinsfiles really run: stage order, parallel branches, matrix cells,
timeouts that kill, stage and pipeline post blocks."""

from __future__ import annotations

from pathlib import Path

from opsforge.pipelines.records import JobStatus

from ..github.conftest import git, load, log_of, run


def test_stages_parallel_matrix_and_post(repo: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    (repo / "Jenkinsfile").write_text(f"""\
pipeline {{
    agent any
    environment {{ TRACE = '{trace}' }}
    stages {{
        stage('Build') {{
            steps {{ sh 'sleep 0.2; echo "build $(date +%s%N)" >> $TRACE' }}
        }}
        stage('Checks') {{
            parallel {{
                stage('Unit') {{ steps {{ sh 'echo "unit $(date +%s%N)" >> $TRACE' }} }}
                stage('Lint') {{ steps {{ sh 'echo "lint $(date +%s%N)" >> $TRACE' }} }}
            }}
        }}
        stage('Matrix') {{
            matrix {{
                axes {{ axis {{ name 'PY'; values '3.11', '3.12' }} }}
                stages {{
                    stage('Py') {{ steps {{ sh 'echo "py-$PY $(date +%s%N)" >> $TRACE' }} }}
                }}
            }}
        }}
        stage('Slow') {{
            options {{ timeout(time: 1, unit: 'SECONDS') }}
            steps {{ sh 'sleep 30' }}
            post {{
                failure {{ echo "slow failed in $STAGE_NAME" }}
                success {{ echo 'never' }}
            }}
        }}
        stage('Never') {{ steps {{ echo 'not reached' }} }}
    }}
    post {{
        always {{ sh 'echo "post-always $(date +%s%N)" >> $TRACE' }}
        failure {{ echo 'the pipeline failed' }}
        success {{ echo 'not printed' }}
    }}
}}
""")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "jenkins")
    result = run(repo, load(repo, repo / "Jenkinsfile", "jenkins"))
    status = {name: r.status for name, r in result.records.items()}
    assert status["Build"] is JobStatus.SUCCESS
    assert status["Py (3.11)"] is JobStatus.SUCCESS
    assert status["Slow"] is JobStatus.TIMED_OUT or status["Slow"].failed
    assert status["Never"] is JobStatus.SKIPPED
    assert status["post: always"] is JobStatus.SUCCESS
    assert status["post: failure"] is JobStatus.SUCCESS
    assert status["post: success"] is JobStatus.SKIPPED
    assert result.exit_code == 1
    assert "slow failed in Slow" in log_of(result.records["Slow"])
    assert "never" not in log_of(result.records["Slow"]).splitlines()
    times = {}
    for line in trace.read_text().splitlines():
        label, stamp = line.split()
        times[label] = int(stamp)
    assert times["build"] < times["unit"]
    assert times["build"] < times["lint"]
    assert max(times["unit"], times["lint"]) < min(times["py-3.11"], times["py-3.12"])
    assert times["post-always"] > times["py-3.12"]


def test_stash_and_unstash_hand_files_between_stages(repo: Path) -> None:
    (repo / "Jenkinsfile").write_text("""\
pipeline {
    agent any
    stages {
        stage('Build') {
            steps {
                sh 'mkdir -p dist && echo built > dist/app.txt && echo log > dist/x.log'
                stash name: 'app', includes: 'dist/**', excludes: '**/*.log'
            }
        }
        stage('Test') {
            steps {
                unstash 'app'
                sh 'cat dist/app.txt && test ! -e dist/x.log'
            }
        }
    }
}
""")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "stash")
    result = run(repo, load(repo, repo / "Jenkinsfile", "jenkins"))
    assert result.records["Test"].status is JobStatus.SUCCESS, log_of(result.records["Test"])
    assert "built" in log_of(result.records["Test"])
