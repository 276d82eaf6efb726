"""TemplateEngine: Ansible's template settings, includes, globals, native values, secrets."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest

import opsforge.templating as templating
from opsforge.deploy.operation import TemplateRenderer
from opsforge.templating import (
    DEFAULT_ANSIBLE_MANAGED,
    OMIT,
    TemplateEngine,
    evaluate,
    find_secrets,
    render_value,
)
from opsforge.types import Secret
from opsforge.vault import VaultSecrets, encrypt_bytes, read_file


def test_public_names() -> None:
    assert set(templating.__all__) == {
        "DEFAULT_ANSIBLE_MANAGED",
        "OMIT",
        "TemplateEngine",
        "TemplateError",
        "evaluate",
        "find_secrets",
        "render_value",
    }


def test_engine_is_a_template_renderer() -> None:
    renderer: TemplateRenderer = TemplateEngine()
    assert renderer.render_string("{{ 1 + 1 }}", {}, origin="x") == "2"


@pytest.fixture
def engine(tmp_path: Path) -> TemplateEngine:
    return TemplateEngine([tmp_path])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- rendering like Ansible's template module -------------------------------------------------


def test_trim_blocks_and_trailing_newline(engine: TemplateEngine, tmp_path: Path) -> None:
    _write(tmp_path / "templates" / "a.j2", "{% for x in xs %}\n- {{ x }}\n{% endfor %}\nend\n")
    assert engine.render_file("a.j2", {"xs": [1, 2]}) == "- 1\n- 2\nend\n"


def test_no_autoescape_and_none_renders_empty(engine: TemplateEngine) -> None:
    assert (
        engine.render_string("<{{ a }}&{{ n }}>", {"a": "<b>", "n": None}, origin="x") == "<<b>&>"
    )


def test_extensions_do_and_loop_controls(engine: TemplateEngine) -> None:
    text = (
        "{% set l = [] %}{% do l.append(1) %}"
        "{% for i in range(5) %}{% if i > 2 %}{% break %}{% endif %}{{ i }}{% endfor %}{{ l }}"
    )
    assert engine.render_string(text, {}, origin="x") == "012[1]"


def test_absolute_template_path(tmp_path: Path) -> None:
    path = _write(tmp_path / "abs.j2", "{{ v }}")
    assert TemplateEngine().render_file(str(path), {"v": "ok"}) == "ok"


def test_search_path_order(tmp_path: Path) -> None:
    role, play = tmp_path / "role", tmp_path / "play"
    _write(role / "templates" / "x.j2", "role")
    _write(play / "x.j2", "play")
    _write(play / "only_play.j2", "only play")
    engine = TemplateEngine([role, play])
    assert engine.render_file("x.j2", {}) == "role"
    assert engine.render_file("only_play.j2", {}) == "only play"


def test_include_beside_the_template_then_search_paths(tmp_path: Path) -> None:
    _write(
        tmp_path / "templates" / "sub" / "main.j2",
        "{% include 'part.j2' %}+{% include 'common.j2' %}",
    )
    _write(tmp_path / "templates" / "sub" / "part.j2", "part {{ v }}")
    _write(tmp_path / "templates" / "common.j2", "common")
    assert TemplateEngine([tmp_path]).render_file("sub/main.j2", {"v": 1}) == "part 1+common"


def test_changed_template_is_rendered_anew(engine: TemplateEngine, tmp_path: Path) -> None:
    path = _write(tmp_path / "c.j2", "one")
    assert engine.render_file("c.j2", {}) == "one"
    path.write_text("two")
    os.utime(path, (1, 1))
    assert engine.render_file("c.j2", {}) == "two"


def test_file_reader_hook_reads_vaulted_templates_and_files(tmp_path: Path) -> None:
    secrets = VaultSecrets.from_password("pw")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "v.j2").write_bytes(
        encrypt_bytes(b"token={{ lookup('file', 'key') }}", "pw")
    )
    (tmp_path / "key").write_bytes(encrypt_bytes(b"s3cret\n", "pw"))
    engine = TemplateEngine([tmp_path], file_reader=lambda path: read_file(path, secrets))
    assert engine.render_file("v.j2", {}) == "token=s3cret"


# -- globals ------------------------------------------------------------------------------------


def test_ansible_managed_and_omit(engine: TemplateEngine) -> None:
    assert engine.render_string("{{ ansible_managed }}", {}, origin="x") == DEFAULT_ANSIBLE_MANAGED
    assert (
        engine.render_string("{{ ansible_managed }}", {"ansible_managed": "mine"}, origin="x")
        == "mine"
    )
    custom = TemplateEngine(ansible_managed="Managed by opsforge")
    assert (
        custom.render_string("# {{ ansible_managed }}", {}, origin="x") == "# Managed by opsforge"
    )
    assert OMIT.startswith("__omit_place_holder__")
    assert len(OMIT) > 30
    args = engine.render_value({"mode": "{{ mode | default(omit) }}"}, {}, origin="x")
    assert args == {"mode": OMIT}
    assert {k: v for k, v in args.items() if v != OMIT} == {}


def test_now_and_range(engine: TemplateEngine) -> None:
    assert isinstance(engine.evaluate("now()", {}, origin="x"), datetime.datetime)
    assert engine.evaluate("now(utc=true).tzinfo is not none", {}, origin="x") is True
    assert engine.evaluate("now(fmt='%Y') | int", {}, origin="x") >= 2024
    assert engine.evaluate("range(3) | list", {}, origin="x") == [0, 1, 2]


def test_lookup_query_q(engine: TemplateEngine) -> None:
    assert engine.evaluate("lookup('items', 'a', 'b')", {}, origin="x") == "a,b"
    assert engine.evaluate("query('items', 'a', 'b')", {}, origin="x") == ["a", "b"]
    assert engine.evaluate("q('items', 'a')", {}, origin="x") == ["a"]
    assert engine.evaluate("lookup('items', 'a', 'b', wantlist=True)", {}, origin="x") == ["a", "b"]


def test_supports(engine: TemplateEngine) -> None:
    assert engine.supports("filter", "to_nice_yaml")
    assert engine.supports("filter", "ansible.builtin.combine")
    assert engine.supports("test", "version")
    assert engine.supports("lookup", "ansible.builtin.first_found")
    assert not engine.supports("filter", "ipaddr")
    assert not engine.supports("lookup", "password")


# -- native values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{ n }}", 5),
        ("{{ n + 1 }}", 6),
        ("{{ [n, 'x'] }}", [5, "x"]),
        ("{{ flag }}", True),
        ("{{ nothing }}", None),
        ("{{ {'k': n} }}", {"k": 5}),
        ("{{ n }}!", "5!"),
        ("{{ n }} {{ n }}", "5 5"),
        (" {{ n }}", " 5"),
        ("plain", "plain"),
        (
            {"a": "{{ n }}", "b": ["x{{ n }}", 3, {"c": "{{ flag }}"}]},
            {"a": 5, "b": ["x5", 3, {"c": True}]},
        ),
        ({"{{ name }}_key": "v"}, {"web_key": "v"}),
        (("{{ n }}",), [5]),
        (7, 7),
    ],
)
def test_render_value(engine: TemplateEngine, value: Any, expected: Any) -> None:
    variables = {"n": 5, "flag": True, "nothing": None, "name": "web"}
    assert engine.render_value(value, variables, origin="x") == expected


def test_evaluate(engine: TemplateEngine) -> None:
    variables = {"os": "Debian", "version": "12"}
    assert engine.evaluate("os == 'Debian' and version | int >= 11", variables, origin="x") is True
    assert engine.evaluate("{{ os == 'RedHat' }}", variables, origin="x") is False
    assert engine.evaluate(True, variables, origin="x") is True
    assert engine.evaluate("undefined_thing is not defined", variables, origin="x") is True
    assert evaluate("1 + 1", {}, origin="x") == 2
    assert render_value(["{{ 2 * 3 }}"], {}, origin="x") == [6]


# -- secrets ------------------------------------------------------------------------------------


def test_secrets_render_as_their_value(engine: TemplateEngine) -> None:
    variables = {
        "pw": Secret("hunter22"),
        "db": {"user": "app", "password": Secret("dbpass99")},
        "keys": [Secret("k1"), "plain"],
    }
    text = (
        "{{ pw }} {{ db.password }} {{ db['password'] | upper }} "
        "{{ keys | join(',') }} {{ db | to_json }}"
    )
    assert engine.render_string(text, variables, origin="x") == (
        'hunter22 dbpass99 DBPASS99 k1,plain {"user": "app", "password": "dbpass99"}'
    )
    assert find_secrets(variables) == (Secret("hunter22"), Secret("dbpass99"), Secret("k1"))
    assert isinstance(variables["pw"], Secret)  # the caller's variables are untouched
    assert isinstance(variables["db"]["password"], Secret)  # type: ignore[index]


def test_render_value_keeps_secrets_secret(engine: TemplateEngine) -> None:
    variables = {"pw": Secret("hunter22"), "db": {"password": Secret("dbpass99")}, "user": "app"}
    out = engine.render_value(
        {
            "password": "{{ pw }}",
            "url": "pg://{{ user }}:{{ db.password }}@h",
            "user": "{{ user }}",
            "db": "{{ db }}",
        },
        variables,
        origin="x",
    )
    assert out["password"] == Secret("hunter22")
    assert isinstance(out["url"], Secret)
    assert out["url"].reveal() == "pg://app:dbpass99@h"
    assert out["user"] == "app"
    assert out["db"] == {"password": Secret("dbpass99")}
    assert "hunter22" not in repr(out)
    assert engine.evaluate("pw", variables, origin="x") == Secret("hunter22")


def test_secret_through_include_and_lookup(tmp_path: Path) -> None:
    _write(tmp_path / "templates" / "main.j2", "{% include 'p.j2' %}|{{ lookup('vars', 'pw') }}")
    _write(tmp_path / "templates" / "p.j2", "{{ pw }}")
    assert TemplateEngine([tmp_path]).render_file("main.j2", {"pw": Secret("s3")}) == "s3|s3"


def test_secrets_reached_through_loops_filters_and_attributes(engine: TemplateEngine) -> None:
    variables = {"users": [{"name": "ann", "pw": Secret("annpw")}], "keys": [Secret("k1")]}
    text = (
        "{% for u in users %}{{ u.name }}:{{ u.pw }}:{{ u['pw'] | upper }}{% endfor %} "
        "{% for k in keys %}{{ k }}{{ k | length }}{% endfor %} "
        "{{ users | map(attribute='pw') | join }} {{ users }}"
    )
    assert engine.render_string(text, variables, origin="x") == (
        "ann:annpw:ANNPW k12 annpw [{'name': 'ann', 'pw': 'annpw'}]"
    )


def test_large_variables_are_passed_not_copied(engine: TemplateEngine) -> None:
    hostvars = {f"h{i}": {"pw": Secret("x"), "n": i} for i in range(2000)}
    variables = {"hostvars": hostvars}
    assert engine.evaluate("hostvars", variables, origin="x") is hostvars
    assert (
        engine.render_string("{{ hostvars.h7.n }}{{ hostvars['h7'].pw }}", variables, origin="x")
        == "7x"
    )
