"""What a playbook does, against local hosts: variables, loops, conditions, registers,
handlers, blocks, tags, check mode, failures naming the task's file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.errors import UsageError

from .conftest import Runner

PRECEDENCE = """
- hosts: all
  gather_facts: false
  vars:
    from_play: play
    over_inventory: play
    over_play: play
  vars_files: [vars.yml]
  roles:
    - role: r
  tasks:
    - set_fact:
        over_task: set_fact
    - name: show
      debug:
        msg: >-
          {{ from_default }} {{ over_default }} {{ over_inventory }} {{ over_play }}
          {{ over_role_vars }} {{ over_task }} {{ extra }} {{ from_vars_file }}
      vars:
        over_task: task
        over_role_vars: task
"""


def test_variable_precedence(run_pb: Runner) -> None:
    result = run_pb(
        PRECEDENCE,
        files={
            "vars.yml": "from_vars_file: file\nover_play: vars_file\n",
            "roles/r/defaults/main.yml": "from_default: default\nover_default: default\n"
                                         "over_inventory: default\n",
            "roles/r/vars/main.yml": "over_role_vars: role_vars\n",
            "roles/r/tasks/main.yml": "- debug: msg=role\n",
        },
        host_vars={"over_default": "inventory", "over_inventory": "inventory",
                   "extra": "inventory"},
        extra_vars={"extra": "extra"},
    )  # fmt: skip
    assert result.output("show") == ("default inventory play vars_file task set_fact extra file")


def test_group_and_host_vars_beside_the_playbook_win_over_the_inventorys(
    run_pb: Runner,
) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: show
              debug:
                msg: "{{ a }} {{ b }} {{ c }} {{ d }} {{ e }}"
        """,
        files={
            "group_vars/all.yml": "a: pb-all\nb: pb-all\nc: pb-all\n",
            "group_vars/odd/main.yml": "b: pb-odd\n",
            "host_vars/h1.yml": "d: pb-h1\n",
        },
        inventory_files={
            "group_vars/all.yml": "a: inv-all\nc: inv-all\ne: inv-all\n",
            "group_vars/odd.yml": "c: inv-odd\nb: inv-odd\n",
            "host_vars/h1.yml": "d: inv-h1\n",
        },
    )
    # all < group < host, and at each level the playbook's directory over the inventory's
    assert result.output("show") == "pb-all pb-odd inv-odd pb-h1 inv-all"


def test_lazy_vars_and_omit(run_pb: Runner, tmp_path: Path) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          vars:
            base: "{{ target }}/{{ inventory_hostname }}"
            broken: "{{ nowhere }}"
            path: "{{ base }}/f"
          tasks:
            - file: path={{ base }} state=directory
            - copy:
                content: "x\\n"
                dest: "{{ path }}"
                mode: "{{ the_mode | default(omit) }}"
        """
    )
    assert result.summary.ok
    assert (tmp_path / "target/h1/f").read_text() == "x\n"


def test_loops_when_and_register(run_pb: Runner, tmp_path: Path) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - command: echo {{ item }}
              loop: [a, b, c]
              when: item != 'b'
              register: out
              changed_when: false
            - name: results
              debug:
                msg: "{{ out.results | map(attribute='stdout') | select('defined') | list }}"
            - name: skipped
              debug:
                msg: "{{ out.results[1].skipped }}"
            - name: dict
              debug: msg="{{ item.key }}={{ item.value }}"
              with_dict: {x: 1}
            - name: sequence
              debug: msg={{ item }}
              with_sequence: start=1 end=3 format=n%d
              loop_control: {index_var: i, label: "{{ i }}"}
            - name: subelements
              debug: msg="{{ item.0.name }}:{{ item.1 }}"
              with_subelements:
                - [{name: u, keys: [k1, k2]}]
                - keys
            - name: fact from a register
              set_fact:
                joined: "{{ out.results | rejectattr('skipped', 'defined')
                            | map(attribute='stdout') | join('+') }}"
            - name: final
              debug: var=joined
        """
    )
    assert result.output("results") == '[\n  "a",\n  "c"\n]'
    assert result.output("skipped") == "true"
    assert result.output("dict") == "[{'key': 'x', 'value': 1}] x=1"
    assert result.output("sequence") == "[0] n1\n[1] n2\n[2] n3"
    lines = result.output("subelements").splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["u:k1", "u:k2"]
    assert result.output("final") == 'joined: "a+c"'


def test_handlers_notify_listen_and_flush(run_pb: Runner, tmp_path: Path) -> None:
    playbook = """
        - hosts: all
          gather_facts: false
          tasks:
            - copy: content=v1 dest={{ target }}/conf
              notify: [restart]
            - copy: content=x dest={{ target }}/other
              notify: unused
            - meta: flush_handlers
            - name: after flush
              shell: cat {{ target }}/log
              register: log
              changed_when: false
            - debug: var=log.stdout_lines
          handlers:
            - name: restart
              shell: echo restart >> {{ target }}/log
            - name: also on restart
              listen: restart
              shell: echo listener >> {{ target }}/log
            - name: unused
              shell: echo unused >> {{ target }}/log
        """
    first = run_pb(playbook.replace("notify: unused", "notify: unused\n              when: false"))
    assert (tmp_path / "target/log").read_text() == "restart\nlistener\n"
    assert first.status("restart") == "changed"
    second = run_pb(playbook.replace("notify: unused", "notify: unused\n              when: false"))
    assert (tmp_path / "target/log").read_text() == "restart\nlistener\n"
    assert not [e for e in second.ops() if e.handler]


def test_block_rescue_always(run_pb: Runner, tmp_path: Path) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - block:
                - set_fact: {before: 1}
                - name: boom
                  command: /bin/false
                - set_fact: {never: 1}
              rescue:
                - name: in rescue
                  debug: msg="rescued {{ ansible_failed_task.name }} never={{ never is defined }}"
              always:
                - name: in always
                  debug: msg=always
            - block:
                - name: fails hard
                  fail: msg="stop here"
              always:
                - name: second always
                  debug: msg=still
            - name: not reached
              debug: msg=no
        """
    )
    assert result.output("in rescue") == "rescued boom never=False"
    assert result.status("in always") == "ok"
    assert result.status("second always") == "ok"
    assert "not reached" not in [e.name for e in result.ops()]
    assert not result.summary.ok
    assert "stop here" in result.outcomes["h1"].message


def test_missing_variable_fails_the_task_at_its_line(run_pb: Runner) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - debug: msg=ok
            - name: uses a missing var
              copy:
                content: "{{ nope }}"
                dest: /tmp/never
        """
    )
    failed = [e for e in result.ops() if e.status == "failed"]
    assert len(failed) == 1
    assert "site.yml:6" in failed[0].output
    assert "'nope' is undefined" in failed[0].output


def test_tags_always_and_never(run_pb: Runner) -> None:
    playbook = """
        - hosts: all
          gather_facts: false
          tasks:
            - {name: a, debug: {msg: a}, tags: [one]}
            - {name: b, debug: {msg: b}, tags: [two]}
            - {name: c, debug: {msg: c}, tags: [always]}
            - {name: d, debug: {msg: d}, tags: [never, debug]}
        """
    names = [e.name for e in run_pb(playbook, tags=frozenset({"one"})).ops()]
    assert names == ["a", "c"]
    names = [e.name for e in run_pb(playbook, skip_tags=frozenset({"one"})).ops()]
    assert names == ["b", "c"]
    names = [e.name for e in run_pb(playbook, tags=frozenset({"debug"})).ops()]
    assert names == ["c", "d"]


def test_check_mode_changes_nothing(run_pb: Runner, tmp_path: Path) -> None:
    playbook = """
        - hosts: all
          gather_facts: false
          tasks:
            - copy: content=hi dest={{ target }}/f
            - command: touch {{ target }}/cmd
            - name: runs anyway
              command: touch {{ target }}/forced
              check_mode: false
        """
    result = run_pb(playbook, check=True)
    assert result.status("copy") == "would_change"
    assert result.status("command") == "skipped"
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["forced"]


def test_until_retries(run_pb: Runner, tmp_path: Path) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - shell: echo x >> {{ target }}/n; wc -l < {{ target }}/n
              register: n
              until: n.stdout | int >= 3
              retries: 5
              delay: 0
            - debug: msg="{{ n.attempts }}"
        """
    )
    assert result.output("debug") == "3"


def test_round_trips_for_independent_tasks(run_pb: Runner) -> None:
    tasks = "\n".join(f"    - copy: content=v{i} dest={{{{ target }}}}/f{i}\n" for i in range(20))
    result = run_pb(f"- hosts: all\n  gather_facts: true\n  tasks:\n{tasks}"
                    "    - shell: echo done\n      changed_when: false\n")  # fmt: skip
    assert result.trips() == 2  # facts (with the system fact), then one script
    again = run_pb(f"- hosts: all\n  gather_facts: true\n  tasks:\n{tasks}")
    assert again.trips() == 1  # facts only: nothing to change


@pytest.mark.parametrize("serial", [1, "50%"])
def test_serial_and_run_once(run_pb: Runner, serial: object) -> None:
    result = run_pb(
        f"""
        - hosts: all
          gather_facts: false
          serial: {serial!r}
          tasks:
            - set_fact: {{picked: "{{{{ inventory_hostname }}}}"}}
              run_once: true
            - name: show
              debug: var=picked
        """,
        hosts=2,
    )
    assert result.output("show", "h1") == 'picked: "h1"'


def test_validate_refuses_a_bad_file_and_keeps_the_old_one(run_pb: Runner, tmp_path: Path) -> None:
    conf = tmp_path / "target" / "sudoers-like"
    conf.write_text("Defaults ok\n")
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: good edit
              lineinfile:
                path: "{{ target }}/sudoers-like"
                line: "Defaults env_reset"
                validate: "grep -q ^Defaults %s"
            - name: bad edit
              copy:
                dest: "{{ target }}/sudoers-like"
                content: "garbage\\n"
                validate: "grep -q ^Defaults %s"
              ignore_errors: true
            - name: bad validate
              template:
                src: t.j2
                dest: "{{ target }}/t"
                validate: "true"
        """,
        files={"templates/t.j2": "x\n"},
    )
    assert result.status("good edit") == "changed"
    assert result.status("bad edit") == "ignored"
    assert "validation failed" in result.output("bad edit")
    assert conf.read_text() == "Defaults ok\nDefaults env_reset\n"
    assert result.status("bad validate") == "failed"
    assert "validate must contain %s" in result.output("bad validate")


def test_ini_file_sets_options_and_then_changes_nothing(run_pb: Runner, tmp_path: Path) -> None:
    conf = tmp_path / "target" / "app.ini"
    conf.write_text("# app\n[db]\nport = 5432\n")
    playbook = """
        - hosts: all
          gather_facts: false
          tasks:
            - name: port
              community.general.ini_file:
                path: "{{ target }}/app.ini"
                section: db
                option: port
                value: 5433
            - name: flag
              ini_file: dest={{ target }}/app.ini section=cache option=enabled value=yes mode=0600
            - name: gone
              ini_file: path={{ target }}/app.ini section=old state=absent
        """
    result = run_pb(playbook)
    assert [result.status(n) for n in ("port", "flag", "gone")] == ["changed", "changed", "ok"]
    assert conf.read_text() == "# app\n[db]\nport = 5433\n[cache]\nenabled = yes\n"
    assert conf.stat().st_mode & 0o777 == 0o600
    again = run_pb(playbook)
    assert [again.status(n) for n in ("port", "flag", "gone")] == ["ok", "ok", "ok"]


def test_include_vars_of_a_directory(run_pb: Runner) -> None:
    playbook = """
        - hosts: all
          gather_facts: false
          tasks:
            - include_vars:
                dir: settings
                ignore_files: ["skip*"]
              register: loaded
            - name: show
              debug:
                msg: "{{ a }} {{ b }} {{ c }} {{ loaded.ansible_included_var_files | length }}"
            - name: depth one
              include_vars: dir=settings depth=1 name=top ignore_unknown_extensions=yes
            - name: show top
              debug: msg="{{ top.a }} {{ top.c | default('none') }}"
        """
    files = {
        "vars/settings/10-base.yml": "a: base\nb: base\n",
        "vars/settings/20-over.yaml": "b: over\n",
        "vars/settings/nested/30-deep.json": '{"c": "deep", "a": "deep"}',
        "vars/settings/skip-me.txt": "not vars\n",
    }
    result = run_pb(playbook, files=files)
    # sorted, nested last: later files win
    assert result.output("show") == "deep over deep 3"
    assert result.output("show top") == "base none"
    files["vars/settings/README"] = "docs\n"
    result = run_pb(playbook, files=files)  # a file that is not vars: a clear failure
    assert result.status("include_vars") == "failed"
    assert "README has none of the extensions" in result.output("include_vars")


def test_vars_prompt_takes_extra_vars_then_the_terminal_then_the_default(
    run_pb: Runner,
) -> None:
    playbook = """
        - hosts: all
          gather_facts: false
          vars:
            release: from-vars
          vars_prompt:
            - name: release
              prompt: Which release?
              private: false
              default: v1
            - name: token
              prompt: API token
          tasks:
            - name: show
              debug: msg="{{ release }} {{ token }}"
        """
    asked: list[tuple[str, bool]] = []

    def terminal(text: str, private: bool) -> str:
        asked.append((text, private))
        return "" if "release" in text else "t0ken"

    result = run_pb(playbook, prompt=terminal)
    assert asked == [("Which release? [v1]", False), ("API token", True)]
    # the private answer is a secret: what is rendered from it is shown masked
    assert result.output("show") == '"***"'
    result = run_pb(playbook.replace("{{ token }}", ""), prompt=terminal)
    assert result.output("show") == "v1"  # an empty answer takes the default
    result = run_pb(playbook, extra_vars={"release": "v9", "token": "x"})
    assert result.output("show") == "v9 x"
    with pytest.raises(UsageError, match="vars_prompt 'token' has no value"):
        run_pb(playbook)


def test_hostvars_of_another_host_are_templated_in_that_hosts_variables(
    run_pb: Runner,
) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: show
              debug:
                msg: >-
                  {{ hostvars['h2'].url }} {{ hostvars[groups['odd'][0]]['url'] }}
                  {{ hostvars['h2'] | length > 3 }} {{ 'url' in hostvars['h2'] }}
              when: inventory_hostname == 'h1'
        """,
        hosts=2,
        host_vars={"port": 8080, "url": "http://{{ inventory_hostname }}:{{ port }}"},
    )
    assert result.output("show") == "http://h2:8080 http://h1:8080 True True"


def test_module_defaults_merge_from_play_to_block_to_task(run_pb: Runner, tmp_path: Path) -> None:
    target = tmp_path / "target"
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          module_defaults:
            ansible.builtin.copy: {mode: "0600"}
            file: {state: directory, mode: "0750"}
          tasks:
            - name: play default
              copy: content="a\\n" dest={{ target }}/a
            - block:
                - name: block default
                  copy: content="b\\n" dest={{ target }}/b
                - name: task wins
                  copy: content="c\\n" dest={{ target }}/c mode=0644
                - name: dir
                  file: path={{ target }}/d
              module_defaults:
                copy: {mode: "0640"}
        """
    )
    assert result.status("dir") == "changed"
    modes = {n: (target / n).stat().st_mode & 0o777 for n in "abcd"}
    assert modes == {"a": 0o600, "b": 0o640, "c": 0o644, "d": 0o750}
