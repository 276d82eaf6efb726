"""Template mining on the labelled corpus (known ground truth), ids that persist."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from logcorpus import SYSTEMS, generate, grouping_accuracy

from opsforge.errors import StateError
from opsforge.observe.logs.headers import HeaderDetector, split_header
from opsforge.observe.logs.miner import TemplateMiner
from opsforge.observe.logs.mining import mine_lines
from opsforge.observe.logs.template_store import TemplateStore

from .conftest import CliRunner


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_grouping_accuracy_per_system(system: str) -> None:
    raw, messages, labels = generate(system, 1000, seed=11)
    for lines in (raw, messages):
        result = mine_lines(lines)
        assert grouping_accuracy(labels, result.assignments) >= 0.9, (system, result.layout)


def test_grouping_accuracy_metric_is_exact() -> None:
    assert grouping_accuracy([1, 1, 2, 2], [7, 7, 8, 8]) == 1.0
    assert grouping_accuracy([1, 1, 2, 2], [7, 7, 7, 7]) == 0.0
    assert grouping_accuracy([1, 1, 2, 2], [7, 8, 9, 9]) == 0.5


@pytest.mark.parametrize(
    ("line", "layout", "message", "level"),
    [
        (
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
            "syslog",
            "Invalid user webmaster from 173.234.31.186",
            "",
        ),
        (
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: "
            "Created MRAppMaster",
            "timestamp-level-logger",
            "Created MRAppMaster",
            "INFO",
        ),
        (
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
            "timestamp-level-logger",
            "PacketResponder 1 terminating",
            "INFO",
        ),
        (
            "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:Fast@774] - "
            "Notification time out: 3200",
            "timestamp-level-logger",
            "Notification time out: 3200",
            "INFO",
        ),
        (
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs",
            "logcat",
            "printFreezingDisplayLogs",
            "D",
        ),
        (
            "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok",
            "bracket-time-level",
            "workerEnv.init() ok",
            "notice",
        ),
        (
            "[10.30 16:49:07] chrome.exe *64 - proxy.example.org:5070 open through proxy",
            "bracket-time-program",
            "proxy.example.org:5070 open through proxy",
            "",
        ),
        (
            "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change",
            "fields-epoch",
            "Component State Change",
            "",
        ),
        (
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 "
            "R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
            "fields-level",
            "instruction cache parity error corrected",
            "INFO",
        ),
        (
            "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
            "pipe-fields",
            "onStandStepChanged 3579",
            "",
        ),
    ],
)
def test_header_layouts(line: str, layout: str, message: str, level: str) -> None:
    assert HeaderDetector().detect([line] * 3) == layout
    header = split_header(line, layout)
    assert (header.message, header.level) == (message, level)


def test_plain_messages_keep_their_first_words() -> None:
    lines = ["Invalid user admin from 1.2.3.4", "Connection closed by 1.2.3.4 [preauth]"] * 5
    assert HeaderDetector().detect(lines) is None


def test_words_that_take_many_values_become_variables() -> None:
    miner = TemplateMiner()
    users = ["admin", "test", "oracle", "guest", "ftp", "pi"]
    states = ["Started", "Stopped", "Paused"]
    for i in range(60):
        miner.add(f"Invalid user {users[i % 6]} from 10.0.0.{i}")
        miner.add(f"VM {states[i % 3]} (Lifecycle Event)")
    miner.consolidate()
    texts = sorted(t.text for t in miner.templates.values())
    assert texts == [
        "Invalid user <*> from <*>",
        "VM Paused (Lifecycle Event)",
        "VM Started (Lifecycle Event)",
        "VM Stopped (Lifecycle Event)",
    ]
    assert sum(t.count for t in miner.templates.values()) == 120


def test_ids_survive_a_restart_and_merges_resolve(tmp_path: Path) -> None:
    store = TemplateStore(tmp_path / "t.sqlite")
    first = TemplateMiner()
    ids = {first.add(f"Invalid user {u} from 10.0.0.1") for u in ("a1b", "c", "d", "e", "f", "g")}
    ids.add(first.add("disk sda1 is full"))
    first.consolidate()
    store.save(first)
    second = TemplateMiner()
    assert store.load(second) == 2
    for old in ids:
        assert second.resolve(old) in second.templates
    again = second.add("Invalid user zed from 10.9.9.9")
    assert again == second.resolve(min(ids))
    assert second.add("disk sdb2 is full") == first.match("disk sdc3 is full").id  # type: ignore[union-attr]
    new = second.add("brand new message here")
    assert new > max(ids)


def test_store_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_text("not a database at all, just text\n" * 100)
    with pytest.raises(StateError, match=r"bad\.sqlite"):
        TemplateStore(bad).load(TemplateMiner())


def test_cli_mine_persists_and_assigns(tmp_path: Path, logs_cli: CliRunner) -> None:
    raw, _, labels = generate("OpenSSH", 600, seed=3)
    log = tmp_path / "auth.log"
    log.write_text("\n".join(raw) + "\n")
    db = tmp_path / "mine.sqlite"
    out = tmp_path / "lines.jsonl"
    proc = logs_cli("mine", str(log), "--db", str(db), "--assignments", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == list(range(1, 601))
    assert grouping_accuracy(labels, [r["template_id"] for r in rows]) >= 0.95
    first = {t["id"]: t["count"] for t in map(json.loads, proc.stdout.splitlines())}
    proc = logs_cli("mine", str(log), "--db", str(db), "--json", "--top", "0")
    assert proc.returncode == 0, proc.stderr
    second = {t["id"]: t["count"] for t in map(json.loads, proc.stdout.splitlines())}
    assert set(second) == set(first)
    assert all(second[i] == 2 * first[i] for i in first)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT sum(count) FROM templates").fetchone() == (1200,)


def test_cli_mine_bad_input(tmp_path: Path, logs_cli: CliRunner) -> None:
    proc = logs_cli("mine", str(tmp_path / "missing.log"))
    assert proc.returncode == 2
    assert "missing.log: no such file" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = logs_cli("mine", str(tmp_path))
    assert proc.returncode == 2
    assert "is a directory" in proc.stderr
    binary = tmp_path / "bin.log"
    binary.write_bytes(b"\x00\xff\xfe garbage \x80\n" * 20 + b"no newline at end")
    proc = logs_cli("mine", str(binary), "--no-db", "--json")
    assert proc.returncode == 0, proc.stderr
    assert sum(json.loads(line)["count"] for line in proc.stdout.splitlines()) == 21
    bad_db = tmp_path / "bad.sqlite"
    bad_db.write_text("garbage " * 1000)
    proc = logs_cli("mine", str(binary), "--db", str(bad_db))
    assert proc.returncode == 1
    assert "bad.sqlite" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_mine_stdin(logs_cli: CliRunner) -> None:
    text = "".join(f"job {i} finished in {i * 3} ms\n" for i in range(50))
    proc = logs_cli("mine", "-", "--no-db", "--json", input=text)
    assert proc.returncode == 0, proc.stderr
    (template,) = map(json.loads, proc.stdout.splitlines())
    assert template["template"] == "job <*> finished in <*>"
    assert template["count"] == 50


def test_a_file_mixing_header_layouts_is_split_line_by_line() -> None:
    systems = ["OpenSSH", "Hadoop", "Android", "HealthApp"]
    raw: list[str] = []
    labels: list[int] = []
    generated = [generate(system, 300, seed=4) for system in systems]
    for block in range(0, 300, 50):  # interleaved blocks of 50 lines
        for index, (lines, _, truth) in enumerate(generated):
            raw += lines[block : block + 50]
            labels += [index * 1000 + label for label in truth[block : block + 50]]
    result = mine_lines(raw)
    assert grouping_accuracy(labels, result.assignments) >= 0.95
