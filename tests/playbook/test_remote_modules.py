"""find and uri: programs run with the host's python3, their JSON registered like
Ansible's results. uri talks to an HTTP server the test starts on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .conftest import Runner


def test_find_filters_like_ansible(run_pb: Runner, tmp_path: Path) -> None:
    root = tmp_path / "target" / "logs"
    (root / "sub" / "deeper").mkdir(parents=True)
    for rel, text in {
        "a.log": "ERROR one\n",
        "b.log": "fine\n",
        "c.txt": "ERROR txt\n",
        ".hidden.log": "ERROR hidden\n",
        "sub/d.log": "x" * 5000,
        "sub/deeper/e.log": "ERROR deep\n",
    }.items():
        (root / rel).write_text(text)
    old = time.time() - 3 * 86400
    os.utime(root / "b.log", (old, old))
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: top logs
              find: paths={{ target }}/logs patterns=*.log
              register: top
            - name: recursive with errors
              find:
                paths: ["{{ target }}/logs"]
                patterns: ["*.log"]
                recurse: true
                contains: "^ERROR"
              register: errors
            - name: old and big
              find: paths={{ target }}/logs recurse=yes depth=2 age=2d
              register: aged
            - name: big
              find: paths={{ target }}/logs recurse=yes size=4k file_type=any
              register: big
            - name: missing dir
              find: paths=/no/such/dir
              register: missing
            - name: show
              debug:
                msg: >-
                  {{ top.files | map(attribute='path') | map('basename') | sort | join(',') }}
                  {{ errors.files | map(attribute='path') | map('basename') | sort | join(',') }}
                  {{ aged.files | map(attribute='path') | map('basename') | join(',') }}
                  {{ big.files | map(attribute='path') | map('basename') | join(',') }}
                  {{ missing.matched }} {{ missing.skipped_paths | length }}
                  {{ top.files[0].mode }} {{ top.files[0].isreg }}
        """
    )
    assert result.status("top logs") == "ok"
    # sizes filter regular files only (as Ansible): the directories match file_type=any
    assert result.output("show") == "a.log,b.log a.log,e.log b.log sub,deeper,d.log 0 1 0644 True"


def test_find_runs_in_check_mode_and_bad_regex_is_an_input_error(run_pb: Runner) -> None:
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: files
              find: paths={{ target }} file_type=directory
              register: found
            - name: show
              debug: msg="{{ found.matched }} {{ found.examined }}"
            - name: bad
              find: paths={{ target }} patterns=( use_regex=yes
        """,
        check=True,
    )
    assert result.output("show") == "0 0"
    assert result.status("bad") == "failed"
    assert "is not a regular expression" in result.output("bad")


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Request-Id", "r-1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/health")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 200 if self.path == "/health" else 404
        self._reply(status, {"path": self.path, "auth": self.headers.get("Authorization")})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length))
        _Handler.seen.append(payload)
        self._reply(201, {"created": payload["name"]})


@pytest.fixture
def http_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_uri_requests_from_the_host(run_pb: Runner, http_server: str) -> None:
    _Handler.seen.clear()
    result = run_pb(
        f"""
        - hosts: all
          gather_facts: false
          tasks:
            - name: health
              uri: url={http_server}/moved return_content=yes
              register: health
            - name: create
              uri:
                url: "{http_server}/items"
                method: POST
                body_format: json
                body: {{name: web, replicas: 2}}
                status_code: [200, 201]
                url_username: deploy
                url_password: s3cret
              register: created
            - name: missing
              uri: url={http_server}/nope
              register: missing
              ignore_errors: true
            - name: show
              debug:
                msg: >-
                  {{{{ health.status }}}} {{{{ health.json.path }}}} {{{{ health.redirected }}}}
                  {{{{ health.x_request_id }}}} {{{{ created.status }}}}
                  {{{{ created.json.created }}}} {{{{ missing.status }}}} {{{{ missing.failed }}}}
        """
    )
    assert result.output("show") == "200 /health True r-1 201 web 404 True"
    assert _Handler.seen == [{"name": "web", "replicas": 2}]
    assert result.status("missing") == "ignored"
    assert "Status code was 404 and not [200]" in result.output("missing")
    assert result.status("health") == "ok"


def test_uri_is_skipped_in_check_mode_and_refuses_other_schemes(
    run_pb: Runner, http_server: str
) -> None:
    _Handler.seen.clear()
    result = run_pb(
        f"""
        - hosts: all
          gather_facts: false
          tasks:
            - name: create
              uri: url={http_server}/items method=POST body_format=json body='{{"name":"x"}}'
        """,
        check=True,
    )
    assert result.status("create") in ("skipped", "would_change")
    assert _Handler.seen == []
    result = run_pb(
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: ftp
              uri: url=ftp://127.0.0.1/x
        """
    )
    assert result.status("ftp") == "failed"
    assert "must be http:// or https://" in result.output("ftp")
