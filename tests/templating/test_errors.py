"""Every template error names the file and line: undefined variables, syntax errors,
unknown filters/tests/lookups, failing filters, missing includes."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.errors import InputError, TemplateError
from opsforge.templating import TemplateEngine

APP_CONF = """\
# {{ ansible_managed }}
[app]
name = {{ name }}
{% if enabled %}
port = {{ port }}
{% endif %}
tier = {{ tier }}
"""


@pytest.fixture
def roledir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "app.conf.j2").write_text(APP_CONF)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _file_error(
    roledir: Path, source: str, variables: dict[str, object] | None = None
) -> TemplateError:
    (roledir / "templates" / "t.j2").write_text(source)
    with pytest.raises(TemplateError) as info:
        TemplateEngine([roledir]).render_file("t.j2", variables or {})
    return info.value


def test_undefined_variable_names_template_and_line(roledir: Path) -> None:
    engine = TemplateEngine([roledir])
    with pytest.raises(TemplateError) as info:
        engine.render_file("app.conf.j2", {"name": "web", "enabled": True, "port": 80})
    error = info.value
    assert str(error) == "templates/app.conf.j2:7: 'tier' is undefined"
    assert (error.path, error.line) == ("templates/app.conf.j2", 7)
    assert isinstance(error, InputError)


def test_paths_outside_the_working_directory_are_absolute(
    roledir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "x.j2").write_text("{{ nope }}")
    with pytest.raises(TemplateError) as info:
        TemplateEngine([elsewhere]).render_file("x.j2", {})
    assert str(info.value) == f"{elsewhere / 'x.j2'}:1: 'nope' is undefined"


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("ok\n{% if x %}\nno endif\n", 3, "Unexpected end of template"),
        ("a\nb\n{{ x | nosuchfilter }}\n", 3, "unsupported filter 'nosuchfilter'"),
        ("a\n{% if x is nosuchtest %}{% endif %}\n", 2, "unsupported test 'nosuchtest'"),
        (
            "{% for i in [1] %}\n{{ i }}\n{% endfor %}\n{{ '{' | from_json }}",
            4,
            "filter 'from_json' failed",
        ),
        ("a\n\n{% include 'missing.j2' %}\n", 3, "template 'missing.j2' not found"),
        ("{{ d.nokey.deeper }}", 1, "'dict object' has no attribute 'nokey'"),
        ("a\n{% for x in missing %}{% endfor %}", 2, "'missing' is undefined"),
        ("a\nb\n{% if missing %}{% endif %}", 3, "'missing' is undefined"),
        (
            "{{ missing | mandatory }}",
            1,
            "filter 'mandatory': Mandatory variable 'missing' not defined.",
        ),
        ("\n{{ lookup('nosuch', 'x') }}", 2, "unsupported lookup 'nosuch'"),
        ("\n\n{{ lookup('file', 'absent.txt') }}", 3, "lookup 'file': could not find 'absent.txt'"),
        (
            "{% macro m(v) %}\n\n{{ v | from_yaml }}\n{% endmacro %}\n{{ m('[') }}",
            3,
            "filter 'from_yaml' failed",
        ),
        ("{{ 1 / 0 }}", 1, "ZeroDivisionError: division by zero"),
    ],
)
def test_file_errors_name_file_and_line(
    roledir: Path, source: str, line: int, message: str
) -> None:
    error = _file_error(roledir, source, {"d": {}})
    assert (error.path, error.line) == ("templates/t.j2", line)
    assert message in error.message
    assert str(error).startswith(f"templates/t.j2:{line}: ")


def test_unknown_filter_in_a_branch_not_taken_fails_when_reached(roledir: Path) -> None:
    source = "a\n{% if flag %}\n{{ x | nosuch }}\n{% endif %}\n"
    (roledir / "templates" / "t.j2").write_text(source)
    engine = TemplateEngine([roledir])
    with pytest.raises(TemplateError, match=r"^templates/t\.j2:3: .*unsupported filter 'nosuch'"):
        engine.render_file("t.j2", {"flag": True, "x": 1})
    # ... and check_file finds it before anything runs, whatever the branch
    with pytest.raises(TemplateError, match=r"^templates/t\.j2:3: unsupported filter 'nosuch'"):
        engine.check_file("t.j2")


def test_error_inside_an_included_template_names_that_template(roledir: Path) -> None:
    (roledir / "templates" / "part.j2").write_text("line one\n{{ inner_missing }}\n")
    error = _file_error(roledir, "top\n{% include 'part.j2' %}\n")
    assert (error.path, error.line) == ("templates/part.j2", 2)
    assert error.message == "'inner_missing' is undefined"


def test_syntax_error_in_an_included_template_names_that_template(roledir: Path) -> None:
    (roledir / "templates" / "part.j2").write_text("x\ny\n{% endfor %}\n")
    error = _file_error(roledir, "top\n{% include 'part.j2' %}\n")
    assert (error.path, error.line) == ("templates/part.j2", 3)


def test_template_lookup_error_names_the_inner_template(roledir: Path) -> None:
    (roledir / "templates" / "inner.j2").write_text("\n\n{{ deep_missing }}")
    error = _file_error(roledir, "{{ lookup('template', 'inner.j2') }}")
    assert (error.path, error.line) == ("templates/inner.j2", 3)


def test_missing_template_file(roledir: Path) -> None:
    with pytest.raises(TemplateError, match=r"^nope\.j2: template not found \(searched "):
        TemplateEngine([roledir]).render_file("nope.j2", {})


# -- strings from a playbook: the origin stands in for the file -------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ tier }}", "play.yml:12: 'tier' is undefined"),
        ("a\nb\n{{ tier }}", "play.yml:12: 'tier' is undefined (line 3 of the template)"),
        ("{{ x | nosuch }}", "play.yml:12: unsupported filter 'nosuch'"),
        ("{% if %}", "play.yml:12: Expected an expression, got 'end of statement block'"),
        ("{{ '[' | from_yaml }}", "play.yml:12: filter 'from_yaml' failed: "),
        ("{{ lookup('nope') }}", "play.yml:12: unsupported lookup 'nope' (supported: dict, env"),
    ],
)
def test_render_string_errors_name_the_origin(text: str, expected: str) -> None:
    with pytest.raises(TemplateError) as info:
        TemplateEngine().render_string(text, {}, origin="play.yml:12")
    assert str(info.value).startswith(expected)
    assert (info.value.path, info.value.line) == ("play.yml", 12)


def test_origin_without_a_line() -> None:
    with pytest.raises(TemplateError) as info:
        TemplateEngine().render_string("{{ x }}", {}, origin="inventory vars")
    assert str(info.value) == "inventory vars: 'x' is undefined"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("missing == 1", "'missing' is undefined"),
        ("missing", "'missing' is undefined"),
        ("missing.attr", "'missing' is undefined"),
        ("a ==", "unexpected 'end of template'"),
        ("a b", "unexpected 'b' after the expression"),
        ("a | nosuch", "unsupported filter 'nosuch'"),
        ("a is nosuch", "unsupported test 'nosuch'"),
        ("a | from_json", "filter 'from_json' failed: TypeError"),
    ],
)
def test_evaluate_errors_name_the_origin(expression: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        TemplateEngine().evaluate(expression, {"a": 1}, origin="tasks/main.yml:4")
    assert str(info.value).startswith(f"tasks/main.yml:4: {message}")


def test_check_string_finds_unsupported_names_before_running() -> None:
    engine = TemplateEngine()
    engine.check_string(
        "{{ a | default('x') | to_json }} {{ lookup('env', 'HOME') }}", origin="p:1"
    )
    engine.check_string("no template here", origin="p:1")
    for text, message in [
        (
            "ok\n{% if false %}{{ a | nosuch }}{% endif %}",
            "p.yml:5: unsupported filter 'nosuch' (line 2",
        ),
        ("{{ lookup('password', 'x') }}", "p.yml:5: unsupported lookup 'password'"),
        (
            "{{ query('ansible.builtin.nope') }}",
            "p.yml:5: unsupported lookup 'ansible.builtin.nope'",
        ),
        ("{% if a is nosuch %}{% endif %}", "p.yml:5: unsupported test 'nosuch'"),
        ("{% if %}", "p.yml:5: Expected an expression"),
    ]:
        with pytest.raises(TemplateError) as info:
            engine.check_string(text, origin="p.yml:5")
        assert str(info.value).startswith(message), str(info.value)
    engine.check_string("a is defined and a | bool", origin="p:1", expression=True)
    with pytest.raises(TemplateError, match="unsupported filter 'nope'"):
        engine.check_string("{{ a | nope }}", origin="p:1", expression=True)


def test_lookups_can_be_disabled() -> None:
    engine = TemplateEngine(lookups_enabled=False)
    with pytest.raises(TemplateError, match="p:1: lookup 'pipe': lookups are disabled here"):
        engine.render_string("{{ lookup('pipe', 'echo hi') }}", {}, origin="p:1")
