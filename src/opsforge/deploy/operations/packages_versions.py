"""Version arithmetic for package operations: Debian (dpkg) ordering, PEP 440 ordering and
pip requirement specifiers, version pins with globs (``nginx=1.22*``).

Pure functions; no host is involved. Debian ordering follows dpkg's ``verrevcmp``
(``~`` sorts before everything, letters before other symbols); PEP 440 covers
epochs, pre/post/dev releases and local labels, enough to decide whether an
installed version satisfies ``>=2,<3``, ``~=1.4`` or ``==1.2.*``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

__all__ = [
    "Requirement",
    "deb_compare",
    "glob_match",
    "pep440_key",
    "satisfies",
]


# ---- Debian ---------------------------------------------------------------------------


def _order(char: str) -> int:
    if not char or char.isdigit():
        return 0
    if char.isalpha():
        return ord(char)
    if char == "~":
        return -1
    return ord(char) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i] if i < len(a) else "")
            bc = _order(b[j] if j < len(b) else "")
            if ac != bc:
                return ac - bc
            i, j = i + 1, j + 1
        start_a, start_b = i, j
        while i < len(a) and a[i].isdigit():
            i += 1
        while j < len(b) and b[j].isdigit():
            j += 1
        num_a, num_b = int(a[start_a:i] or 0), int(b[start_b:j] or 0)
        if num_a != num_b:
            return 1 if num_a > num_b else -1
    return 0


def _deb_split(version: str) -> tuple[int, str, str]:
    epoch, sep, rest = version.partition(":")
    if not sep:
        epoch, rest = "0", version
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    return int(epoch) if epoch.isdigit() else 0, upstream, revision


def deb_compare(a: str, b: str) -> int:
    """<0, 0, >0 as Debian version ``a`` sorts before, equal to, after ``b``."""
    ea, ua, ra = _deb_split(a)
    eb, ub, rb = _deb_split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


def glob_match(version: str, pattern: str) -> bool:
    """A pinned version (``1.22*``, ``1.22.1-9``) matches an installed one."""
    return fnmatch.fnmatchcase(version, pattern)


# ---- PEP 440 --------------------------------------------------------------------------

_PEP440 = re.compile(
    r"""^v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d+)?)?
    (?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}

Key = tuple[object, ...]


def _release(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def pep440_key(version: str) -> Key:
    """A sort key for a PEP 440 version (tuples of ints, comparable); ValueError when it
    is not one."""
    m = _PEP440.match(version.strip())
    if not m:
        raise ValueError(f"not a PEP 440 version: {version!r}")
    has_post = bool(m["post_l"] or m["post_n1"])
    if m["pre_l"]:
        pre = (_PRE_RANK[m["pre_l"].lower()], int(m["pre_n"] or 0))
    elif m["dev_l"] and not has_post:
        pre = (-1, 0)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = (3, 0)
    post = (int(m["post_n1"] or m["post_n2"] or 0),) if has_post else (-1,)
    dev = (0, int(m["dev_n"] or 0)) if m["dev_l"] else (1, 0)
    local = tuple(
        (int(p), "") if p.isdigit() else (-1, p.lower())
        for p in re.split(r"[-_.]", m["local"] or "")
        if p
    )
    return (int(m["epoch"] or 0), _release(m["release"]), pre, post, dev, local)


def _is_pre(key: Key) -> bool:
    return key[2] != (3, 0) or key[4] != (1, 0)


def _is_post(key: Key) -> bool:
    return key[3] != (-1,)


def _public(version: str) -> str:
    return version.split("+", 1)[0]


def _prefix_match(version: str, prefix: str) -> bool:
    """``==1.2.*``: the release starts with 1.2 (epochs equal)."""
    try:
        have = pep440_key(_public(version))
        want = pep440_key(prefix)
    except ValueError:
        return False
    if have[0] != want[0]:
        return False
    m = _PEP440.match(_public(version))
    w = _PEP440.match(prefix)
    assert m
    assert w
    have_rel = [int(p) for p in m["release"].split(".")]
    want_rel = [int(p) for p in w["release"].split(".")]
    have_rel += [0] * (len(want_rel) - len(have_rel))
    return have_rel[: len(want_rel)] == want_rel


def _one(version: str, op: str, wanted: str) -> bool:
    if op == "===":
        return version == wanted
    if wanted.endswith(".*"):
        if op not in ("==", "!="):
            raise ValueError(f"'.*' only goes with == and != ({op}{wanted})")
        matched = _prefix_match(version, wanted[:-2])
        return matched if op == "==" else not matched
    have, want = pep440_key(version), pep440_key(wanted)
    public = pep440_key(_public(version))
    if "+" not in wanted and op in ("==", "!=", ">=", "<="):
        have = public
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    if op == ">=":
        return have >= want
    if op == "<=":
        return have <= want
    same_base = have[:2] == want[:2]
    if op == ">":  # not a post-release or a local version of the one named
        if not have > want:
            return False
        post_of_it = _is_post(have) and not _is_post(want)
        return not (same_base and (post_of_it or bool(have[5])))
    if op == "<":  # not a pre-release of the one named
        if not have < want:
            return False
        return not (same_base and _is_pre(have) and not _is_pre(want))
    if op == "~=":
        release = wanted.split("+")[0]
        m = _PEP440.match(release)
        assert m
        parts = m["release"].split(".")
        if len(parts) < 2:
            raise ValueError(f"~= needs at least two release parts ({wanted})")
        return have >= want and _prefix_match(version, ".".join(parts[:-1]))
    raise ValueError(f"unknown version operator {op!r}")


_SPEC = re.compile(r"^\s*(===|~=|==|!=|<=|>=|<|>)\s*([^\s,]+)\s*$")
_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Requirement:
    """A requirement like ``requests>=2,<3`` or ``Django[argon2]==4.2.*`` (no URL, no marker)."""

    name: str  # as written
    specifiers: tuple[tuple[str, str], ...] = ()
    extras: str = ""

    @property
    def key(self) -> str:
        """The PEP 503 normalized name (how pip lists it)."""
        return normalize(self.name)

    @classmethod
    def parse(cls, text: str) -> Requirement | None:
        """None when ``text`` is not a plain named requirement (a path, a URL, a marker)."""
        m = _NAME.match(text)
        if not m or ";" in text or "@" in text or "/" in text:
            return None
        specs: list[tuple[str, str]] = []
        rest = m[3].strip()
        if rest.startswith("(") and rest.endswith(")"):
            rest = rest[1:-1]
        for part in filter(None, (p.strip() for p in rest.split(","))) if rest else ():
            spec = _SPEC.match(part)
            if not spec:
                return None
            specs.append((spec[1], spec[2]))
        for op, wanted in specs:
            if op != "===":
                try:
                    pep440_key(wanted.removesuffix(".*"))
                except ValueError:
                    return None
        return cls(m[1], tuple(specs), m[2] or "")

    def __str__(self) -> str:
        return self.name + self.extras + ",".join(op + v for op, v in self.specifiers)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def satisfies(version: str, req: Requirement) -> bool:
    """Whether an installed ``version`` meets every specifier of ``req``."""
    try:
        return all(_one(version, op, wanted) for op, wanted in req.specifiers)
    except ValueError:
        return False
