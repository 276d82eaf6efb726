"""JUnit XML: one report of the jobs' results, and one merging the jobs' own JUnit reports.

Both follow the widely used JUnit schema (``testsuites`` → ``testsuite`` →
``testcase`` with ``failure``/``error``/``skipped``; the XSD is in
tests/pipelines/data/junit.xsd). Files are written atomically.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from opsforge.pipelines.masking import Masker
from opsforge.pipelines.records import JobRecord, JobStatus

__all__ = ["job_results_xml", "merged_reports_xml", "write_xml"]

_TAIL = 4000  # characters of a failed job's log in <system-out>


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())


def _tail(record: JobRecord) -> str:
    if record.log_path is None:
        return ""
    try:
        text = record.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-_TAIL:]


def job_results_xml(
    name: str, records: Iterable[JobRecord], masker: Masker | None = None
) -> ET.Element:
    """One ``testcase`` per job (classname = stage): failed/timed out → ``failure``,
    canceled → ``error``, skipped/manual/cached/not run → ``skipped``."""
    records = list(records)
    suites = ET.Element("testsuites", name=name)
    suite = ET.SubElement(suites, "testsuite", name=name, timestamp=_stamp(), hostname="localhost")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total = 0.0
    mask = masker.mask if masker else (lambda s: s)
    for record in records:
        case = ET.SubElement(
            suite,
            "testcase",
            name=record.name,
            classname=record.stage or "pipeline",
            time=f"{record.duration:.3f}",
        )
        counts["tests"] += 1
        total += record.duration
        message = mask(record.message or record.status.value)
        if record.status.failed and not record.allowed_failure:
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", message=message, type=record.status.value)
            failure.text = mask(_tail(record))
        elif record.status is JobStatus.CANCELED:
            counts["errors"] += 1
            ET.SubElement(case, "error", message=message, type="canceled")
        elif record.status.failed:  # allowed to fail: a skipped-with-reason, not a failure
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"failed, allowed to fail: {message}")
        elif record.status is not JobStatus.SUCCESS:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=f"{record.status.value}: {message}")
    for key, value in counts.items():
        suite.set(key, str(value))
        suites.set(key, str(value))
    suite.set("time", f"{total:.3f}")
    suites.set("time", f"{total:.3f}")
    return suites


def merged_reports_xml(name: str, records: Iterable[JobRecord]) -> tuple[ET.Element, list[str]]:
    """Every ``testsuite`` of every job's JUnit report under one ``testsuites``; the
    suite names get the job name as prefix. Unparseable reports are listed, not fatal."""
    suites = ET.Element("testsuites", name=name)
    problems: list[str] = []
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for record in records:
        for path in record.junit_reports:
            try:
                root = ET.parse(path).getroot()
            except (ET.ParseError, OSError) as exc:
                problems.append(f"{record.name}: {path.name}: {exc}")
                continue
            found = [root] if root.tag == "testsuite" else root.findall("testsuite")
            for suite in found:
                suite.set("name", f"{record.name}: {suite.get('name', path.stem)}")
                cases = suite.findall("testcase")
                counted = {
                    "tests": len(cases),
                    "failures": sum(1 for c in cases if c.find("failure") is not None),
                    "errors": sum(1 for c in cases if c.find("error") is not None),
                    "skipped": sum(1 for c in cases if c.find("skipped") is not None),
                }
                for key, value in counted.items():
                    suite.set(key, str(value))
                    totals[key] += value
                suites.append(suite)
    for key, value in totals.items():
        suites.set(key, str(value))
    return suites, problems


def write_xml(element: ET.Element, path: Path) -> None:
    """Write ``element`` to ``path`` atomically (a temp file renamed over it)."""
    ET.indent(element)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    ET.ElementTree(element).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)
