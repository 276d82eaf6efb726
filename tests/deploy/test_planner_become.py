"""Which become facts are gathered with (:func:`opsforge.deploy.planner.fact_groups`)."""

from __future__ import annotations

from opsforge.deploy.facts.files import FileState
from opsforge.deploy.facts.system import System
from opsforge.deploy.facts.system_state import Crontab
from opsforge.deploy.facts.users import PasswordHash, Users
from opsforge.deploy.planner import fact_groups
from opsforge.types import Become

ROOT = Become()
OTHER = Become(user="app")


def test_no_become_one_group_without() -> None:
    groups = fact_groups([(None, [Users()]), (None, [FileState("/x")])], [System()])
    assert groups == [(None, [Users(), FileState("/x"), System()])]


def test_one_become_for_every_operation_reads_everything_with_it() -> None:
    groups = fact_groups([(ROOT, [Users(), PasswordHash("a")]), (ROOT, [FileState("/x")])])
    assert groups == [(ROOT, [Users(), PasswordHash("a"), FileState("/x")])]


def test_operations_without_facts_do_not_count() -> None:
    assert fact_groups([(None, []), (ROOT, [Crontab("root")])]) == [(ROOT, [Crontab("root")])]


def test_disagreeing_operations_raise_only_facts_that_need_it() -> None:
    groups = fact_groups(
        [(None, [FileState("/x"), Crontab(None)]), (ROOT, [Users(), PasswordHash("a")]),
         (OTHER, [Crontab("root")])],
        [System()],
    )  # fmt: skip
    assert groups == [
        (ROOT, [PasswordHash("a"), Crontab("root")]),
        (None, [FileState("/x"), Crontab(None), Users(), System()]),
    ]
