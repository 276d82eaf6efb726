"""Parsers per format (YAML cases), multi-line events, grok, detection, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from opsforge.observe.logs.formats import FORMATS
from opsforge.observe.logs.grok import GrokError, GrokLibrary
from opsforge.observe.logs.multiline import group_lines
from opsforge.observe.logs.parsing import choose_parser, parse_lines

from .conftest import CliRunner

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "cases" / "parse.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['format']}-{i}" for i, c in enumerate(CASES)])
def test_parse_case(case: dict[str, Any]) -> None:
    record = FORMATS[case["format"]](case["line"])
    if case.get("failure"):
        assert record is None
        return
    assert record is not None
    for key, value in case["fields"].items():
        assert record.get(key) == value, key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_no_parser_crashes_on_any_text(text: str) -> None:
    for parser in FORMATS.values():
        record = parser(text)
        assert record is None or isinstance(record, dict)


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("syslog", ["Dec 10 06:55:46 LabSZ sshd[1]: a", "Dec 10 06:55:47 LabSZ sshd[2]: b"]),
        ("json", ['{"msg": "a"}', '{"msg": "b"}']),
        ("journald", ['{"__REALTIME_TIMESTAMP": "1", "MESSAGE": "x"}']),
        ("nginx", ['1.2.3.4 - - [17/May/2015:08:05:32 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"']),
        ("logfmt", ["a=1 b=2", "a=3 b=4"]),
        (
            "generic",
            ["2024-01-01 10:00:00,000 INFO app: started", "2024-01-01 10:00:01,000 WARN app: x"],
        ),
        ("none", ["hello", "world"]),
    ],
)
def test_auto_detection(name: str, lines: list[str]) -> None:
    assert choose_parser("auto", lines).name == name


PYTHON_TRACE = """\
2024-01-01 12:00:00,123 ERROR app.main: request failed
Traceback (most recent call last):
  File "app.py", line 3, in handle
    run()
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "app.py", line 5, in handle
ValueError: bad input
2024-01-01 12:00:01,000 INFO app.main: next request
2024-01-01 12:00:02,000 ERROR [main] com.example.Worker: job failed
java.lang.IllegalStateException: boom
\tat com.example.Worker.run(Worker.java:10)
Caused by: java.io.IOException: disk full
\t... 5 more
2024-01-01 12:00:03,000 INFO [main] com.example.Worker: done
"""


def test_stack_traces_join_their_event() -> None:
    lines = PYTHON_TRACE.splitlines()
    choice = choose_parser("auto", lines)
    records = list(parse_lines(lines, choice))
    assert [r["log.file.line"] for r in records] == [1, 12, 13, 18]
    python, info, java, done = records
    assert python["error.type"] == "ValueError"
    assert python["message"].startswith("request failed\nTraceback")
    assert python["error.stack_trace"].count("Traceback") == 2
    assert info["message"] == "next request"
    assert "error.type" not in info
    assert java["error.type"] == "java.lang.IllegalStateException"
    assert "Caused by: java.io.IOException" in java["error.stack_trace"]
    assert done["log.level"] == "INFO"


def test_plain_lines_are_one_event_each() -> None:
    lines = ["a", "b", "", "  indented first?"]
    events = list(group_lines(enumerate(lines, 1)))
    assert [(n, first, rest) for n, first, rest in events] == [
        (1, "a", []),
        (2, "b", []),
        (3, "", ["  indented first?"]),
    ]


def test_malformed_lines_are_kept_and_flagged() -> None:
    lines = [
        "Dec 10 06:55:46 LabSZ sshd[1]: ok",
        "\x00\x01 garbage",
        "Dec 10 06:55:47 LabSZ sshd[2]: ok",
    ]
    records = list(parse_lines(lines, choose_parser("syslog", [])))
    assert len(records) == 3
    assert records[1]["tags"] == ["_parsefailure"]
    assert records[1]["message"] == "\x00\x01 garbage"


def test_grok_types_fields_and_custom_patterns(tmp_path: Path) -> None:
    library = GrokLibrary()
    patterns = tmp_path / "fw.patterns"
    patterns.write_text(
        "# firewall\nFWACTION (?:ACCEPT|DROP)\nFWLINE %{FWACTION:event.action} %{IP:source.ip}\n"
    )
    assert library.load_file(patterns) == 2
    grok = library.compile("%{FWLINE} bytes=%{NUMBER:source.bytes:int} t=%{NUMBER:t:float}")
    assert grok.match("DROP 10.1.2.3 bytes=512 t=0.25") == {
        "event.action": "DROP",
        "source.ip": "10.1.2.3",
        "source.bytes": 512,
        "t": 0.25,
    }
    assert grok.match("REJECT 10.1.2.3 bytes=512 t=0.25") is None
    combined = library.compile("%{COMBINEDAPACHELOG}")
    record = combined.match(
        '::1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 - "-" "curl/8"'
    )
    assert record is not None
    assert record["source.address"] == "::1"
    assert "http.response.body.bytes" not in record
    assert record["user_agent.original"] == "curl/8"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GOOD \\d+\nBAD\n", "fw.patterns:2: expected 'NAME regex'"),
        ("LOOP %{LOOP}\n", "fw.patterns:1: grok pattern %{LOOP} refers to itself"),
        ("BROKEN (unclosed\n", "fw.patterns:1: grok expression"),
        ("USES %{NOPE}\n", "fw.patterns:1: unknown grok pattern %{NOPE}"),
    ],
)
def test_bad_pattern_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fw.patterns"
    path.write_text(text)
    with pytest.raises(GrokError) as info:
        GrokLibrary().load_file(path)
    assert message in str(info.value)


def test_cli_parse(tmp_path: Path, logs_cli: CliRunner) -> None:
    log = tmp_path / "app.log"
    log.write_text(PYTHON_TRACE + "a line no format knows\n")
    proc = logs_cli("parse", str(log), "--stats")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == 5
    assert records[-1]["tags"] == ["_parsefailure"]
    assert "format generic" in proc.stderr
    assert "records/s" in proc.stderr
    proc = logs_cli("parse", str(log), "-o", "table")
    assert proc.returncode == 0, proc.stderr
    assert "request failed" in proc.stdout
    assert "[unparsed]" in proc.stdout


def test_cli_parse_grok_and_errors(tmp_path: Path, logs_cli: CliRunner) -> None:
    log = tmp_path / "fw.log"
    log.write_text("DROP 10.0.0.1 512\nnonsense\n")
    proc = logs_cli(
        "parse", str(log), "--grok", "%{WORD:event.action} %{IP:source.ip} %{INT:source.bytes:int}"
    )
    assert proc.returncode == 0, proc.stderr
    first, second = map(json.loads, proc.stdout.splitlines())
    assert first["source.bytes"] == 512
    assert first["event.action"] == "DROP"
    assert second["tags"] == ["_parsefailure"]
    for args, text in [
        (("--grok", "%{NOPE:x}"), "unknown grok pattern %{NOPE}"),
        (("--patterns", str(log)), "--patterns needs --grok"),
        (("--format", "xml"), "Invalid value for '-F' / '--format'"),
    ]:
        proc = logs_cli("parse", str(log), *args)
        assert proc.returncode == 2, args
        assert text in proc.stderr
        assert "Traceback" not in proc.stderr
    proc = logs_cli("parse", str(tmp_path / "nope.log"))
    assert proc.returncode == 2
    assert "nope.log: no such file" in proc.stderr


def test_cli_parse_stdin_json(logs_cli: CliRunner) -> None:
    proc = logs_cli("parse", "-", input='{"level":"error","msg":"x"}\nnot json\n')
    assert proc.returncode == 0, proc.stderr
    first, second = map(json.loads, proc.stdout.splitlines())
    assert first["log.level"] == "error"
    assert second["tags"] == ["_parsefailure"]
