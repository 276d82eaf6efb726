"""Modules that run a small Python program on the host and register its JSON result:
``find`` (read-only, runs in check mode too) and ``uri`` (an HTTP request made from the
host, as Ansible makes it; skipped in check mode). Like Ansible's own modules they need
``python3`` on the host; without it the task fails saying so.

The programs below are sent as text and run with ``python3 -c``; their arguments travel as
base64 JSON, so no value is ever parsed by the shell.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from typing import Any

from opsforge.deploy.operation import Change
from opsforge.deploy.playbook.args import as_bool, as_int, as_list, as_str, opt_str
from opsforge.deploy.playbook.mod_commands import CommandCall, RunCommand
from opsforge.deploy.playbook.modules import (
    BuildEnv,
    ModuleCall,
    ModuleSpec,
    Output,
    register_module,  # fmt: skip
)
from opsforge.errors import InputError
from opsforge.types import Secret

__all__ = ["FIND_PROGRAM", "URI_PROGRAM"]

FIND_PROGRAM = r"""
import base64, fnmatch, grp, hashlib, json, os, pwd, re, stat, sys, time
a = json.loads(base64.b64decode(sys.argv[1]))
def matcher(pats):
    if a["use_regex"]:
        rx = [re.compile(p) for p in pats]
        return lambda n: any(r.match(n) for r in rx)
    return lambda n: any(fnmatch.fnmatch(n, p) for p in pats)
wanted, excluded = matcher(a["patterns"] or ["*"]), matcher(a["excludes"])
contains = re.compile(a["contains"]) if a["contains"] else None
now = time.time()
def name_of(f, n):
    try:
        return f(n)[0]
    except KeyError:
        return ""
def info(path, st):
    m = st.st_mode
    d = {"path": path, "mode": "%04o" % stat.S_IMODE(m), "isdir": stat.S_ISDIR(m),
         "isreg": stat.S_ISREG(m), "islnk": stat.S_ISLNK(m), "size": st.st_size,
         "mtime": st.st_mtime, "atime": st.st_atime, "ctime": st.st_ctime,
         "uid": st.st_uid, "gid": st.st_gid, "inode": st.st_ino, "dev": st.st_dev,
         "nlink": st.st_nlink, "pw_name": name_of(pwd.getpwuid, st.st_uid),
         "gr_name": name_of(grp.getgrgid, st.st_gid),
         "isuid": bool(m & stat.S_ISUID), "isgid": bool(m & stat.S_ISGID)}
    for who, shift in (("usr", 6), ("grp", 3), ("oth", 0)):
        for bit, letter in ((4, "r"), (2, "w"), (1, "x")):
            d[letter + who] = bool(m >> shift & bit)
    return d
def kind_ok(st):
    t = a["file_type"]
    m = st.st_mode
    return (t == "any" or (t == "file" and stat.S_ISREG(m)) or
            (t == "directory" and stat.S_ISDIR(m)) or (t == "link" and stat.S_ISLNK(m)))
def age_ok(st):
    if a["age"] is None:
        return True
    ts = getattr(st, "st_" + a["age_stamp"])
    age = a["age"]
    return now - ts >= age if age >= 0 else now - ts <= -age
def size_ok(st):  # as Ansible: sizes filter regular files only
    s = a["size"]
    if s is None or not stat.S_ISREG(st.st_mode):
        return True
    return st.st_size >= s if s >= 0 else st.st_size <= -s
def content_ok(path, st):
    if contains is None:
        return True
    if not stat.S_ISREG(st.st_mode):
        return False
    try:
        with open(path, "r", errors="replace") as fh:
            if a["read_whole_file"]:
                return contains.search(fh.read()) is not None
            return any(contains.match(line) for line in fh)
    except OSError:
        return False
files, skipped, examined = [], {}, 0
for top in a["paths"]:
    if not os.path.isdir(top):
        skipped[top] = "%s was skipped as it does not seem to be a valid directory" % top
        continue
    base = top.rstrip("/").count("/")
    for root, dirs, names in os.walk(top, followlinks=a["follow"]):
        depth = root.rstrip("/").count("/") - base + 1
        if not a["recurse"] or (a["depth"] and depth >= a["depth"]):
            dirs_to_walk = []
        else:
            dirs_to_walk = dirs[:]
        for name in sorted(dirs) + sorted(names):
            path = os.path.join(root, name)
            if not a["hidden"] and name.startswith("."):
                continue
            examined += 1
            try:
                st = os.stat(path) if a["follow"] else os.lstat(path)
            except OSError:
                continue
            if (kind_ok(st) and wanted(name) and not excluded(name) and age_ok(st)
                    and size_ok(st) and content_ok(path, st)):
                d = info(path, st)
                if a["checksum"] and stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as fh:
                        d["checksum"] = hashlib.sha1(fh.read()).hexdigest()
                files.append(d)
        dirs[:] = [d for d in dirs if d in dirs_to_walk]
print(json.dumps({"files": files, "matched": len(files), "examined": examined,
                  "skipped_paths": skipped, "msg": "All paths examined"}))
"""

URI_PROGRAM = r"""
import base64, json, ssl, sys, time, urllib.error, urllib.request
a = json.loads(base64.b64decode(sys.argv[1]))
class Redirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        safe = req.get_method() in ("GET", "HEAD")
        if a["follow"] == "none" or (a["follow"] == "safe" and not safe):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)
handlers = [Redirects()]
if not a["validate_certs"]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    handlers.append(urllib.request.HTTPSHandler(context=ctx))
opener = urllib.request.build_opener(*handlers)
body = None if a["body"] is None else base64.b64decode(a["body"])
req = urllib.request.Request(a["url"], data=body, method=a["method"], headers=a["headers"])
out = {"url": a["url"], "redirected": False}
start = time.time()
try:
    resp = opener.open(req, timeout=a["timeout"])
except urllib.error.HTTPError as exc:
    resp = exc
except Exception as exc:
    out.update(status=-1, msg="Status code was -1 and not %s: Request failed: %s"
               % (a["status_code"], exc), elapsed=int(time.time() - start))
    print(json.dumps(out))
    sys.exit(0)
data = resp.read()
out["status"] = resp.status if hasattr(resp, "status") else resp.code
out["url"] = resp.geturl() or a["url"]
out["redirected"] = out["url"] != a["url"]
out["elapsed"] = int(time.time() - start)
for key, value in resp.headers.items():
    out[key.lower().replace("-", "_")] = value
ctype = resp.headers.get("Content-Type", "") or ""
text = data.decode(resp.headers.get_content_charset() or "utf-8", "replace")
if a["return_content"]:
    out["content"] = text
if "json" in ctype:
    try:
        out["json"] = json.loads(text)
    except ValueError:
        pass
out["msg"] = "OK (%s bytes)" % len(data)
print(json.dumps(out))
"""


def _program(source: str, args: dict[str, Any]) -> str:
    encoded = base64.b64encode(json.dumps(args).encode()).decode()
    code = source.strip().replace("'", "'\"'\"'")
    return (
        "command -v python3 >/dev/null 2>&1 || "
        "{ echo 'python3 is needed on the host for this module' >&2; exit 127; }\n"
        f"python3 -c '{code}' {encoded}"
    )


class JsonCall(CommandCall):
    """A command whose stdout is the module's JSON result."""

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        base = super().result(change, output)
        if base is None or change.is_noop:
            return base
        if base["rc"] != 0:
            msg = base["stderr"] or base["stdout"] or f"exit code {base['rc']}"
            return {"changed": False, "failed": True, "rc": base["rc"], "msg": msg}
        try:
            value: dict[str, Any] = json.loads(base["stdout"])
        except ValueError:
            return {"changed": False, "failed": True, "msg": "no result: " + base["stdout"][:200]}
        return {"changed": False, "failed": False, **self.check(value)}

    def check(self, value: dict[str, Any]) -> dict[str, Any]:
        return value


class FindCall(JsonCall):
    opaque = False
    check_skips = False
    runs_in_check = True  # read-only: what it registers in check mode is real

    def plan(self, facts: Any, env: Any) -> Change:
        change = super().plan(facts, env)
        return Change(change.actions, (), change.reason, changed=False)


class UriCall(JsonCall):
    status_codes: tuple[int, ...] = (200,)

    def plan(self, facts: Any, env: Any) -> Change:
        change = super().plan(facts, env)
        return Change(change.actions, change.diff, change.reason, changed=False)

    def check(self, value: dict[str, Any]) -> dict[str, Any]:
        status = value.get("status", -1)
        if status not in self.status_codes:
            value["failed"] = True
            if status != -1:
                value["msg"] = (
                    f"Status code was {status} and not {list(self.status_codes)}: "
                    + value.get("msg", "")
                )
        return value


_AGE = re.compile(r"^(-?\d+)([smhdw]?)$")
_SIZE = re.compile(r"^(-?\d+)([bkmgt]?)$")
_AGE_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_UNIT = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _scaled(value: Any, pattern: re.Pattern[str], units: dict[str, int], what: str) -> int | None:
    if value is None:
        return None
    match = pattern.match(str(value).strip().lower())
    if match is None:
        raise InputError(f"find: {what} {value!r} is not a number with a unit")
    return int(match.group(1)) * units[match.group(2)]


def _find(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    paths = [as_str(p, "paths") for p in as_list(args["paths"])]
    kind = opt_str(args.get("file_type")) or "file"
    if kind not in ("file", "directory", "link", "any"):
        raise InputError(f"find: file_type {kind!r} (file, directory, link or any)")
    stamp = opt_str(args.get("age_stamp")) or "mtime"
    if stamp not in ("mtime", "atime", "ctime"):
        raise InputError(f"find: age_stamp {stamp!r} (mtime, atime or ctime)")
    use_regex = as_bool(args.get("use_regex"), "use_regex")
    patterns = [as_str(p, "patterns") for p in as_list(args.get("patterns") or [])]
    excludes = [as_str(p, "excludes") for p in as_list(args.get("excludes") or [])]
    contains = opt_str(args.get("contains"), "contains")
    for pattern in (*patterns, *excludes, *([contains] if contains else [])):
        if use_regex or pattern == contains:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise InputError(f"find: {pattern!r} is not a regular expression: {exc}") from None
    program_args = {
        "paths": paths,
        "patterns": patterns,
        "excludes": excludes,
        "use_regex": use_regex,
        "contains": contains,
        "read_whole_file": as_bool(args.get("read_whole_file"), "read_whole_file"),
        "file_type": kind,
        "recurse": as_bool(args.get("recurse"), "recurse"),
        "depth": as_int(args["depth"], "depth") if args.get("depth") is not None else None,
        "hidden": as_bool(args.get("hidden"), "hidden"),
        "follow": as_bool(args.get("follow"), "follow"),
        "age": _scaled(args.get("age"), _AGE, _AGE_UNIT, "age"),
        "age_stamp": stamp,
        "size": _scaled(args.get("size"), _SIZE, _SIZE_UNIT, "size"),
        "checksum": as_bool(args.get("get_checksum"), "get_checksum"),
    }
    shown = f"find {' '.join(paths)}"
    return [FindCall(RunCommand(_program(FIND_PROGRAM, program_args), shown), shown)]


_FORMATS = ("json", "form-urlencoded", "raw")


def _uri(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    url = as_str(args["url"], "url")
    if not re.match(r"^https?://", url):
        raise InputError(f"uri: url must be http:// or https://, got {url!r}")
    method = (opt_str(args.get("method")) or "GET").upper()
    headers = {str(k): str(v) for k, v in dict(args.get("headers") or {}).items()}
    body_format = opt_str(args.get("body_format")) or "raw"
    if body_format not in _FORMATS:
        raise InputError(f"uri: body_format {body_format!r} ({', '.join(_FORMATS)})")
    body: bytes | None = None
    secrets: tuple[Secret, ...] = ()
    raw = args.get("body")
    if raw is not None:
        if body_format == "json":
            body = (raw if isinstance(raw, str) else json.dumps(raw)).encode()
            headers.setdefault("Content-Type", "application/json")
        elif body_format == "form-urlencoded":
            from urllib.parse import urlencode

            body = (raw if isinstance(raw, str) else urlencode(dict(raw))).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            body = str(raw).encode()
    user, password = opt_str(args.get("url_username")), args.get("url_password")
    if user is not None:
        if isinstance(password, Secret):
            secrets, password = (password,), password.reveal()
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        secrets += (Secret(token),)
    follow = opt_str(args.get("follow_redirects")) or "safe"
    follow = {"yes": "all", "true": "all", "no": "none", "false": "none"}.get(follow, follow)
    codes = tuple(as_int(c, "status_code") for c in as_list(args.get("status_code") or [200]))
    program_args = {
        "url": url,
        "method": method,
        "headers": headers,
        "body": None if body is None else base64.b64encode(body).decode(),
        "timeout": as_int(args.get("timeout", 30), "timeout"),
        "validate_certs": as_bool(args.get("validate_certs"), "validate_certs", default=True),
        "follow": follow,
        "return_content": as_bool(args.get("return_content"), "return_content"),
        "status_code": list(codes),
    }
    shown = f"uri {method} {url}"
    operation = RunCommand(
        _program(URI_PROGRAM, program_args),
        shown,
        creates=opt_str(args.get("creates")),
        removes=opt_str(args.get("removes")),
        secrets=secrets,
    )
    call = UriCall(operation, shown)
    call.status_codes = codes
    return [call]


register_module(ModuleSpec(
    "find",
    frozenset({"paths", "patterns", "excludes", "contains", "read_whole_file", "file_type",
               "recurse", "depth", "hidden", "follow", "age", "age_stamp", "size",
               "use_regex", "get_checksum", "checksum_algorithm"}),
    _find, aliases={"path": "paths", "name": "paths", "pattern": "patterns",
                    "exclude": "excludes", "regex": "contains"},
    required=("paths",),
))  # fmt: skip
register_module(ModuleSpec(
    "uri",
    frozenset({"url", "method", "headers", "body", "body_format", "status_code",
               "return_content", "timeout", "validate_certs", "follow_redirects",
               "url_username", "url_password", "force_basic_auth", "creates", "removes",
               "use_proxy"}),
    _uri, aliases={"user": "url_username", "password": "url_password"},
    required=("url",),
    unsupported={k: "not supported yet" for k in ("dest", "src", "unix_socket",
                 "client_cert", "client_key", "ca_path", "remote_src", "use_gssapi")},
))  # fmt: skip
