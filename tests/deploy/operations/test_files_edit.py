"""Properties of the text edits behind line/block/replace, and operations planning
against what earlier operations of the same run will leave (``facts_after``)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from opsforge.deploy.context import HostContext
from opsforge.deploy.facts.base import FactCache
from opsforge.deploy.facts.files import FileState
from opsforge.deploy.operations import files
from opsforge.deploy.operations.files_edit import edit_block, edit_line

from .conftest import file_info, plan_env, written

texts = st.text(alphabet="ab=#\n ", max_size=40)
lines = st.text(alphabet="ab=# ", min_size=1, max_size=6)
anchors = st.sampled_from([None, "^a", "b$", "BOF", "EOF", "=", "^#"])
regexps = st.sampled_from([None, "^a", "b", "^#?a=", "=$"])


@settings(max_examples=300, deadline=None)
@given(texts, lines, regexps, anchors, st.booleans(), st.booleans())
def test_line_is_idempotent(text: str, line: str, regexp: str | None, anchor: str | None,
                            before: bool, firstmatch: bool) -> None:  # fmt: skip
    assume(regexp is None or re.search(regexp, line + "\n"))  # Ansible's rule for idempotence
    kwargs = {"insertbefore" if before else "insertafter": anchor}
    once = edit_line(text, line, regexp=regexp, firstmatch=firstmatch, **kwargs)  # type: ignore[arg-type]
    assert edit_line(once, line, regexp=regexp, firstmatch=firstmatch, **kwargs) == once  # type: ignore[arg-type]
    assert line in [x.rstrip("\r") for x in once.split("\n")]


@settings(max_examples=300, deadline=None)
@given(texts, lines, regexps)
def test_removing_lines_is_idempotent_and_leaves_no_match(
    text: str, line: str, regexp: str | None
) -> None:
    once = edit_line(text, line, regexp=regexp, present=False)
    assert edit_line(once, line, regexp=regexp, present=False) == once
    if regexp is None:
        assert line not in [x.rstrip("\r") for x in once.split("\n")]


@settings(max_examples=300, deadline=None)
@given(texts, st.text(alphabet="xy \n", max_size=12), anchors, st.booleans())
def test_block_is_idempotent_and_removable(
    text: str, block: str, anchor: str | None, before: bool
) -> None:
    kwargs = {"insertbefore" if before else "insertafter": anchor}
    once = edit_block(text, block, **kwargs)  # type: ignore[arg-type]
    assert edit_block(once, block, **kwargs) == once  # type: ignore[arg-type]
    removed = edit_block(once, block, present=False)
    assert "OPSFORGE MANAGED BLOCK" not in removed
    if "OPSFORGE" not in text and text.endswith("\n"):
        assert removed == text


def test_later_operations_plan_against_earlier_ones(tmp_path: Path) -> None:
    """copy, then two line edits and a chmod of the same file: each sees the previous."""
    host = HostContext(name="web1", vars={}, groups=(), _cache=FactCache("web1"))
    files.copy(host, dest="/etc/app.conf", content="a=1\n")
    files.line(host, "/etc/app.conf", "a=2", regexp="^a=")
    files.line(host, "/etc/app.conf", "b=1")
    files.file(host, "/etc/app.conf", mode="0600")
    files.directory(host, "/srv/new", mode="0750")
    files.directory(host, "/srv/new", mode="0750")
    files.remove(host, "/srv/new")
    files.line(host, "/srv/new", "x", create=False, present=False)
    cache = FactCache("web1")
    for fact in (f for d in host.declared for f in d.op.facts()):
        cache.put(fact, file_info(fact.path, None, with_content=True))  # type: ignore[attr-defined]
    env = plan_env(tmp_path)
    changes = []
    for declared in host.declared:
        change = declared.op.plan(cache, env)
        for fact, value in change.facts_after:
            cache.put(fact, value)
        changes.append(change)
    assert written(changes[0]) == {"/etc/app.conf": b"a=1\n"}
    assert written(changes[1]) == {"/etc/app.conf": b"a=2\n"}
    assert written(changes[2]) == {"/etc/app.conf": b"a=2\nb=1\n"}
    assert [a.shown() for a in changes[3].actions] == ["chmod 0600 /etc/app.conf"]
    assert changes[5].is_noop
    assert "exists (mode 0750" in changes[5].reason
    assert not changes[6].is_noop
    assert changes[7].is_noop
    assert "does not exist" in changes[7].reason
    after = cache.get(FileState("/etc/app.conf", content=True))
    assert after is not None
    assert (after.mode, after.content) == (0o600, b"a=2\nb=1\n")
