"""GitLab configuration features: includes, extends, default, anchors, !reference, rules."""

from __future__ import annotations

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.gitlab.expr import parse_expression
from opsforge.pipelines.model import When

from .conftest import ProjectFactory, git, load, log_text, run


def test_include_local_globs_extends_default_anchors_and_reference(project: ProjectFactory) -> None:
    root = project(
        """
        include:
          - local: ci/*.yml
        default:
          before_script: [echo default-before]
          retry: 1
        .common: &common
          variables: {LEVEL: common}
          tags: [docker]
        build:
          <<: *common
          extends: .template
          script:
            - !reference [.shared, script]
            - echo "level=$LEVEL from=$FROM"
        nodefault:
          inherit: {default: false}
          script: [echo plain]
        """,
        files={
            "ci/a.yml": ".template: {variables: {FROM: template}, stage: build}\n",
            "ci/b.yml": ".shared: {script: [echo shared-1, echo shared-2]}\n",
        },
    )
    pipeline = load(root)
    build = pipeline.job("build")
    assert build.stage == "build"
    assert build.retry.max == 1
    assert build.tags == ("docker",)
    assert pipeline.job("nodefault").retry.max == 0
    result = run(root)
    text = log_text(result, "build")
    assert text.index("default-before") < text.index("shared-1") < text.index("shared-2")
    assert "level=common from=template" in text
    assert "default-before" not in log_text(result, "nodefault")


def test_vendored_remote_include(project: ProjectFactory) -> None:
    root = project(
        "include: https://example.invalid/ci/base.yml\na: {extends: .base, script: [echo $X]}\n",
        files={
            ".opsforge/vendor/remote/example.invalid/ci/base.yml": ".base: {variables: {X: v}}\n"
        },
    )
    assert "v" in log_text(run(root), "a")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('$CI_COMMIT_BRANCH == "main"', True),
        ('$CI_COMMIT_BRANCH != "main"', False),
        ("$CI_COMMIT_BRANCH", True),
        ("$EMPTY", False),
        ("$UNDEFINED", False),
        ("$UNDEFINED == null", True),
        ("$EMPTY == null", False),
        ('$EMPTY == ""', True),
        ("$CI_COMMIT_BRANCH =~ /^ma/", True),
        ("$CI_COMMIT_BRANCH =~ /^MA/i", True),
        ("$CI_COMMIT_BRANCH !~ /^feat/", True),
        ("$UNDEFINED =~ /x/", False),
        ("$CI_COMMIT_BRANCH =~ $PATTERN", True),
        ('$A == "1" && $B == "2"', True),
        ('$A == "1" && $B == "3"', False),
        ('$A == "9" || $B == "2"', True),
        ('($A == "9" || $B == "2") && $EMPTY', False),
        ('$A == "9" || $B == "2" && $EMPTY', False),
        ('$A == "1" || $B == "2" && $EMPTY', True),
        ("$A == $ONE", True),
        ("'single' == \"single\"", True),
    ],
)
def test_rules_if_expressions(expression: str, expected: bool) -> None:
    env = {
        "CI_COMMIT_BRANCH": "main",
        "EMPTY": "",
        "A": "1",
        "B": "2",
        "ONE": "1",
        "PATTERN": "/ai/",
    }
    assert parse_expression(expression).evaluate(env) is expected


def test_rules_when_variables_and_allow_failure(project: ProjectFactory) -> None:
    root = project(
        """
        variables: {DEPLOY: "yes"}
        deploy:
          script: [echo "target=$TARGET"]
          rules:
            - if: $CI_COMMIT_TAG
              when: never
            - if: $DEPLOY == "yes" && $CI_COMMIT_BRANCH == "main"
              when: manual
              variables: {TARGET: prod}
              allow_failure: false
            - when: always
        never:
          script: [echo x]
          rules:
            - if: $NOPE
        """
    )
    pipeline = load(root)
    deploy = pipeline.job("deploy")
    assert deploy.when is When.MANUAL
    assert not deploy.allow_failure.allowed
    assert deploy.condition is not None
    assert "rule 2" in deploy.condition.reason
    excluded = {e.name: e.reason for e in pipeline.excluded}
    assert excluded == {"never": "no rule matched (1 rules)"}
    assert "target=prod" in log_text(run(root, ["deploy"]), "deploy")
    other = load(root, ref="feature")
    assert other.job("deploy").when is When.ALWAYS


def test_rules_changes_and_exists(project: ProjectFactory) -> None:
    root = project(
        """
        docs:
          script: [echo docs]
          rules: [{changes: ["docs/**/*.md"]}]
        code:
          script: [echo code]
          rules: [{changes: {paths: [src/**/*], compare_to: HEAD~1}}]
        has_docker:
          script: [echo d]
          rules: [{exists: [Dockerfile]}]
        has_py:
          script: [echo p]
          rules: [{exists: ["**/*.py"]}]
        """,
        files={"src/app.py": "print(1)\n"},
    )
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# new\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "docs")
    names = load(root).job_names
    assert "docs" in names  # changed in the last commit
    assert "code" not in names  # src/ did not change in HEAD~1..HEAD
    assert "has_py" in names
    assert "has_docker" not in names


def test_workflow_rules_decide_whether_the_pipeline_runs(project: ProjectFactory) -> None:
    root = project(
        """
        workflow:
          rules:
            - if: $CI_PIPELINE_SOURCE == "schedule"
              when: never
            - if: $CI_COMMIT_BRANCH
              variables: {FROM_WORKFLOW: wf}
        a: {script: [echo "wf=$FROM_WORKFLOW"]}
        """
    )
    assert "wf=wf" in log_text(run(root), "a")
    scheduled = load(root, event="schedule")
    assert not scheduled.runs
    assert "when: never" in scheduled.workflow_reason


def test_only_except(project: ProjectFactory) -> None:
    root = project(
        """
        main_only: {script: [x], only: [main]}
        not_main: {script: [x], except: [main]}
        regex: {script: [x], only: ["/^ma/"]}
        tags_only: {script: [x], only: [tags]}
        by_var: {script: [x], only: {variables: [$FLAG == "on"]}}
        mr: {script: [x], only: [merge_requests]}
        """
    )
    assert set(load(root).job_names) == {"main_only", "regex"}
    assert set(load(root, variables={"FLAG": "on"}).job_names) == {"main_only", "regex", "by_var"}
    assert "mr" in load(root, event="merge_request_event").job_names
    assert set(load(root, ref="dev").job_names) == {"not_main"}


def test_stages_pre_and_post_order(project: ProjectFactory) -> None:
    root = project(
        """
        stages: [build]
        last: {stage: .post, script: [echo last]}
        first: {stage: .pre, script: [echo first]}
        build: {stage: build, script: [echo build]}
        """
    )
    pipeline = load(root)
    assert pipeline.stages == (".pre", "build", ".post")
    from opsforge.pipelines.planner import plan_pipeline

    plan = plan_pipeline(pipeline)
    assert [p.name for p in plan.jobs] == ["first", "build", "last"]
    assert plan["last"].deps == ("first", "build")


def test_vendored_component_with_spec_inputs(project: ProjectFactory) -> None:
    component = """
spec:
  inputs:
    stage: {default: test}
    greeting:
---
"hello-$[[ inputs.greeting ]]":
  stage: $[[ inputs.stage ]]
  script: [echo "$[[ inputs.greeting ]] from the component"]
"""
    root = project(
        """
        include:
          - component: example.invalid/group/greeter@1.0
            inputs: {greeting: hi}
        """,
        files={".opsforge/vendor/component/example.invalid/group/greeter@1.0.yml": component},
    )
    pipeline = load(root)
    job = pipeline.job("hello-hi")
    assert job.stage == "test"
    assert job.source is not None
    assert job.source.line == 7  # lines count from the top of the component file
    assert "hi from the component" in log_text(run(root), "hello-hi")


def test_include_inputs_keep_their_yaml_types_and_are_checked(project: ProjectFactory) -> None:
    template = """\
spec:
  inputs:
    replicas: {type: number}
    canary: {type: boolean, default: false}
    regions: {type: array, default: [eu]}
---
deploy:
  parallel:
    matrix:
      - REGION: $[[ inputs.regions ]]
  script: [echo "x$[[ inputs.replicas ]] canary=$[[ inputs.canary ]] in $REGION"]
"""
    good = project(
        "include:\n  - local: deploy.yml\n    inputs: {replicas: 3, canary: true}\n",
        files={"deploy.yml": template},
    )
    result = run(good)
    assert "x3 canary=true in eu" in log_text(result, "deploy: [eu]")
    for inputs, words in [
        ("{replicas: three}", "deploy.yml:3: input 'replicas' (number): 'three' is not a number"),
        ("{replicas: 1, canary: 'yes'}", "deploy.yml:4: input 'canary' (boolean)"),
        ("{canary: true}", "deploy.yml:3: input 'replicas' is required (no default)"),
        ("{replicas: 1, extra: 2}", "input 'extra' is not declared in spec:inputs"),
    ]:
        root = project(
            f"include:\n  - local: deploy.yml\n    inputs: {inputs}\n",
            files={"deploy.yml": template},
        )
        with pytest.raises(PipelineError) as caught:
            load(root)
        assert words in str(caught.value), (inputs, str(caught.value))


def test_input_functions_expand_vars_truncate_posix_escape(project: ProjectFactory) -> None:
    template = """\
spec:
  inputs:
    title: {default: "It's $CI_COMMIT_BRANCH"}
    sha: {default: $CI_COMMIT_SHA}
---
show:
  script:
    - echo $[[ inputs.title | expand_vars | posix_escape ]]
    - echo "short=$[[ inputs.sha | expand_vars | truncate(0,8) ]]"
"""
    root = project("include: [{local: show.yml}]\n", files={"show.yml": template})
    sha = git(root, "rev-parse", "HEAD").strip()
    text = log_text(run(root), "show")
    assert "It's main" in text  # expanded, then escaped as one shell word
    assert f"short={sha[:8]}" in text
    for bad, words in [
        ("$[[ inputs.sha | shout ]]", "show.yml:7: unknown input function 'shout'"),
        ("$[[ inputs.sha | truncate(a,b) ]]", "unknown input function 'truncate(a,b)'"),
        (
            "$[[ inputs.sha | expand_vars | expand_vars | expand_vars | expand_vars ]]",
            "at most 3 functions",
        ),
        ("$[[ inputs.nope ]]", "show.yml:7: $[[ inputs.nope ]]: no input 'nope'"),
    ]:
        broken = template.split("---")[0] + f"---\nshow:\n  script: [echo {bad}]\n"
        (root / "show.yml").write_text(broken)
        with pytest.raises(PipelineError) as caught:
            load(root)
        assert words in str(caught.value), (bad, str(caught.value))
