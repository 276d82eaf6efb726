"""Bad playbooks are refused before anything runs, with the file and line at fault."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from opsforge.deploy.playbook import check_playbook, load_playbook
from opsforge.errors import InputError
from opsforge.templating import TemplateEngine
from opsforge.vault import VaultSecrets, encrypt_bytes


def _load(tmp_path: Path, text: str, files: dict[str, str] | None = None,
          secrets: VaultSecrets | None = None) -> None:  # fmt: skip
    path = tmp_path / "site.yml"
    path.write_text(textwrap.dedent(text).lstrip())
    for name, content in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(content).lstrip())
    playbook = load_playbook(path, secrets)
    check_playbook(playbook, TemplateEngine([tmp_path]))


def _error(tmp_path: Path, text: str, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as info:
        _load(tmp_path, text, **kwargs)  # type: ignore[arg-type]
    return info.value


CASES = [
    pytest.param(
        """
        - hosts: all
          tasks:
            - name: x
              copy: {src: a, dest: /b
        """,
        "site.yml", None, "YAML syntax error", id="yaml-syntax",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - name: ok
              debug: msg=hi
            - name: bad
              frobnicate: x=1
        """,
        "site.yml", 6, "unknown module 'frobnicate'", id="unknown-module",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - apt_repository: repo=x
        """,
        "site.yml", 3, "module 'apt_repository' is not supported yet", id="module-not-yet",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug: msg=hi
            - ansible.builtin.apt:
                name: nginx
                autoremove: true
        """,
        "site.yml", 4, "apt: parameter 'autoremove': not supported yet", id="apt-unsupported",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - ansible.posix.mount: {path: /x, state: mounted, boot: false}
        """,
        "site.yml", 3, "mount: parameter 'boot': not supported yet", id="mount-unsupported",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - user: name=x generate_ssh_key=yes
        """,
        "site.yml", 3, "user: parameter 'generate_ssh_key'", id="user-unsupported",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug: msg=hi
              whn: true
        """,
        "site.yml", 4, "unknown keyword 'whn'", id="unknown-keyword",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug: msg=hi
              delegate_facts: true
        """,
        "site.yml", 4, "delegate_facts is not supported yet", id="unsupported-keyword",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug: msg=hi
              async: 10
        """,
        "site.yml", 3, "async works on command, shell, script and raw", id="async-not-command",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - copy: content=x dest=/tmp/x frobs=1
        """,
        "site.yml", 3, "copy: unknown parameter 'frobs'", id="unknown-parameter",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug:
                msg: "{{ 1 + }}"
        """,
        "site.yml", 3, "", id="bad-jinja",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug: msg=hi
              when: x | frobnicate
        """,
        "site.yml", 4, "unsupported filter 'frobnicate'", id="unsupported-filter",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug:
                msg: "{{ lookup('redis', 'k') }}"
        """,
        "site.yml", 3, "unsupported lookup 'redis'", id="unsupported-lookup",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - template: src=missing.j2 dest=/tmp/x
        """,
        "site.yml", 3, "template 'missing.j2' not found", id="missing-template",
    ),
    pytest.param(
        """
        - hosts: all
          roles:
            - nosuchrole
        """,
        "site.yml", 3, "role 'nosuchrole' not found", id="missing-role",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - copy: src=nothere.txt dest=/tmp/x
        """,
        "site.yml", 3, "copy src 'nothere.txt' not found", id="missing-file",
    ),
    pytest.param(
        """
        - hosts: all
          tasks:
            - debug: msg=hi
              notify: nobody
        """,
        "site.yml", 3, "no handler 'nobody'", id="unknown-handler",
    ),
    pytest.param(
        """
        - hosts: all
          taks:
            - debug: msg=hi
        """,
        "site.yml", 2, "unknown play keyword 'taks'", id="unknown-play-keyword",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "file", "line", "message"), CASES)
def test_load_error_names_file_and_line(
    tmp_path: Path, text: str, file: str, line: int | None, message: str
) -> None:
    error = _error(tmp_path, text)
    assert error.path is not None
    assert Path(error.path).name == file
    if line is not None:
        assert error.line == line, str(error)
    assert message in str(error)


def test_error_inside_a_role_names_the_role_file(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        """
        - hosts: all
          roles: [web]
        """,
        files={"roles/web/tasks/main.yml": """
            - debug: msg=fine
            - name: broken
              shell: echo hi
              becom: true
            """},
    )  # fmt: skip
    assert error.path is not None
    assert error.path.endswith("roles/web/tasks/main.yml")
    assert error.line == 4
    assert "unknown keyword 'becom'" in str(error)


def test_template_syntax_error_names_the_template(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        """
        - hosts: all
          tasks:
            - template: src=app.j2 dest=/tmp/x
        """,
        files={"templates/app.j2": "line one\n{% if x %}\nno end\n"},
    )
    assert error.path is not None
    assert error.path.endswith("app.j2")


def test_wrong_vault_password(tmp_path: Path) -> None:
    vaulted = encrypt_bytes(b"- hosts: all\n  tasks: []\n", "right").decode()
    (tmp_path / "site.yml").write_text(vaulted)
    with pytest.raises(InputError) as info:
        load_playbook(tmp_path / "site.yml", VaultSecrets.from_password("wrong"))
    assert "site.yml" in str(info.value)


def test_vaulted_playbook_and_vault_values_load(tmp_path: Path) -> None:
    secrets = VaultSecrets.from_password("pw")
    value = encrypt_bytes(b"hunter2", "pw").decode()
    indented = "\n".join("        " + line for line in value.splitlines())
    text = f"- hosts: all\n  vars:\n    token: !vault |\n{indented}\n  tasks: []\n"
    (tmp_path / "site.yml").write_bytes(encrypt_bytes(text.encode(), "pw"))
    playbook = load_playbook(tmp_path / "site.yml", secrets)
    assert playbook.plays[0].vars["token"].reveal() == "hunter2"


def test_import_playbook_and_static_imports(tmp_path: Path) -> None:
    _load(
        tmp_path,
        """
        - import_playbook: other.yml
        - hosts: all
          tasks:
            - import_tasks: more.yml
            - include_tasks: "{{ 'more' }}.yml"
        """,
        files={"other.yml": "- hosts: all\n  tasks: [{debug: {msg: hi}}]\n",
               "more.yml": "- debug: msg=more\n"},
    )  # fmt: skip
