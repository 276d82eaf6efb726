"""The secret detectors: provider patterns, generic assignments, entropy in context.

Each :class:`SecretRule` is a regular expression whose group ``secret`` is
the value; ``validate`` may reject a match (a JWT whose header is not JSON,
a private key header without a key body). False-positive filters
(:func:`looks_like_placeholder`) are shared by the generic rules; the
provider rules are specific enough to need only the placeholder check.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from opsforge.security.findings import Check, Severity

__all__ = ["GENERIC_RULES", "PROVIDER_RULES", "SecretRule", "looks_like_placeholder"]

TOOL = "secrets"

_ROTATE = (
    "Revoke and rotate the credential now (it is in the file and maybe in git history), "
    "then load it at run time from the environment or a secret store."
)


@dataclass(frozen=True)
class SecretRule:
    check: Check
    pattern: re.Pattern[str]
    validate: Callable[[str], bool] | None = None
    #: cheap substrings, one of which must occur in the text for the regex to run
    hints: tuple[str, ...] = ()


def _check(rule_id: str, title: str, severity: Severity, rationale: str) -> Check:
    return Check(
        rule_id, title, severity, tool=TOOL, rationale=rationale, remediation=_ROTATE,
        tags=("secret",),
    )  # fmt: skip


def _jwt_ok(token: str) -> bool:
    header = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


PROVIDER_RULES: tuple[SecretRule, ...] = (
    SecretRule(
        _check("secret.aws-access-key", "AWS access key id", Severity.CRITICAL,
               "AWS access key ids give API access to an AWS account together with the secret."),
        re.compile(r"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])"),
        hints=("AKIA", "ASIA", "ABIA", "ACCA"),
    ),
    SecretRule(
        _check("secret.aws-secret-key", "AWS secret access key", Severity.CRITICAL,
               "An AWS secret access key signs API requests for its account."),
        re.compile(
            r"(?i)aws_?(?:secret)?_?(?:access)?_?key[\"']?\s*(?:[:=]|=>)\s*[\"']?"
            r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
        hints=("aws", "AWS", "Aws"),
    ),
    SecretRule(
        _check("secret.github-token", "GitHub token", Severity.CRITICAL,
               "GitHub tokens act as their user or app on GitHub (code, packages, workflows)."),
        re.compile(
            r"(?<![A-Za-z0-9_])(?P<secret>gh[pousr]_[A-Za-z0-9]{36,255}"
            r"|github_pat_[A-Za-z0-9_]{60,255})"
        ),
        hints=("gh", "github_pat_"),
    ),
    SecretRule(
        _check("secret.gitlab-token", "GitLab token", Severity.CRITICAL,
               "GitLab personal, pipeline-trigger, runner and deploy tokens grant API access."),
        re.compile(r"(?<![A-Za-z0-9_])(?P<secret>gl(?:pat|ptt|rt|dt|cbt|oas)-[A-Za-z0-9_\-]{20,})"),
        hints=("gl",),
    ),
    SecretRule(
        _check("secret.slack-token", "Slack token", Severity.HIGH,
               "Slack bot/user tokens read and post messages in a workspace."),
        re.compile(r"(?<![A-Za-z0-9])(?P<secret>xox[abposr]-[0-9A-Za-z]{8,}-[0-9A-Za-z-]{8,})"),
        hints=("xox",),
    ),
    SecretRule(
        _check("secret.slack-webhook", "Slack incoming webhook URL", Severity.MEDIUM,
               "Anyone with the webhook URL can post into the channel."),
        re.compile(
            r"(?P<secret>https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/"
            r"[A-Za-z0-9]{20,})"
        ),
        hints=("hooks.slack.com",),
    ),
    SecretRule(
        _check("secret.stripe-key", "Stripe secret key", Severity.CRITICAL,
               "Stripe secret and restricted keys move money on the account."),
        re.compile(r"(?<![A-Za-z0-9])(?P<secret>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99})"),
        hints=("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
    ),
    SecretRule(
        _check("secret.private-key", "Private key", Severity.CRITICAL,
               "A private key lets whoever holds it impersonate its owner (TLS, SSH, PGP)."),
        re.compile(
            r"(?P<secret>-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY"
            r"(?: BLOCK)?-----(?:\\n|\r?\n)(?:[A-Za-z0-9-]+: [^\n]*\n|\\n|\r?\n)*"
            r"[A-Za-z0-9+/=]{40,})"
        ),
        hints=("PRIVATE KEY",),
    ),
    SecretRule(
        _check("secret.jwt", "JSON Web Token", Severity.MEDIUM,
               "A JWT is a bearer credential until it expires (often long-lived API tokens)."),
        re.compile(
            r"(?<![A-Za-z0-9_-])(?P<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}"
            r"\.[A-Za-z0-9_-]{16,})"
        ),
        validate=_jwt_ok,
        hints=("eyJ",),
    ),
    SecretRule(
        _check("secret.google-api-key", "Google API key", Severity.HIGH,
               "Google API keys bill and authorize calls to Google Cloud APIs."),
        re.compile(r"(?<![A-Za-z0-9_-])(?P<secret>AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])"),
        hints=("AIza",),
    ),
    SecretRule(
        _check("secret.pypi-token", "PyPI upload token", Severity.HIGH,
               "A PyPI token uploads releases of the owner's projects (supply chain)."),
        re.compile(r"(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})"),
        hints=("pypi-AgEIcHlwaS5vcmc",),
    ),
    SecretRule(
        _check("secret.npm-token", "npm access token", Severity.HIGH,
               "An npm token publishes packages as its owner (supply chain)."),
        re.compile(r"(?<![A-Za-z0-9_])(?P<secret>npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])"),
        hints=("npm_",),
    ),
)  # fmt: skip

_SECRET_WORDS = (
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|auth[_-]?key|credentials?)"
)

#: ``password = "..."`` style assignments (code, YAML, INI, env, JSON), value quoted.
PASSWORD_ASSIGNMENT = SecretRule(
    _check(
        "secret.password-assignment",
        "Hard-coded password or secret in an assignment",
        Severity.HIGH,
        "A literal password/secret/token assigned in a file is readable by everyone who can "
        "read the file or its history.",
    ),
    re.compile(
        r"(?i)(?P<name>[A-Za-z0-9_.-]*" + _SECRET_WORDS + r"[A-Za-z0-9_.-]*)[\"']?\s*"
        r"(?::=|=>|==?|:)\s*(?P<q>[\"'])(?P<secret>[^\"'\s\\]{6,200})(?P=q)"
    ),
)

#: unquoted ``KEY=value`` / ``key: value`` lines (.env files, YAML, INI, properties).
PASSWORD_UNQUOTED = SecretRule(
    PASSWORD_ASSIGNMENT.check,
    re.compile(
        r"(?im)^[ \t]*(?:export[ \t]+|-[ \t]+)?(?P<name>[A-Za-z0-9_.-]*" + _SECRET_WORDS
        + r"[A-Za-z0-9_.-]*)[ \t]*(?:=|:)[ \t]*(?P<secret>[^\s\"']{8,200})[ \t]*$"
    ),
)  # fmt: skip

HIGH_ENTROPY = SecretRule(
    _check(
        "secret.high-entropy-string",
        "High-entropy string next to a secret-like name",
        Severity.MEDIUM,
        "A random-looking string assigned to a key/secret/token name is most likely a credential.",
    ),
    re.compile(
        r"(?i)(?P<name>[A-Za-z0-9_.-]*(?:key|secret|token|passw|credential|auth|signature|salt)"
        r"[A-Za-z0-9_.-]*)[\"']?\s*(?::=|=>|=|:|\()\s*[\"']?(?P<secret>[A-Za-z0-9+/=_-]{20,256})"
    ),
)

GENERIC_RULES = (PASSWORD_ASSIGNMENT, PASSWORD_UNQUOTED, HIGH_ENTROPY)

_PLACEHOLDER_WORDS = (
    "example", "placeholder", "changeme", "change_me", "change-me", "your", "redacted",
    "dummy", "sample", "xxxx", "****", "replace", "insert", "todo", "fixme", "secret_here",
    "password_here", "notreal", "not_real", "not-a-real", "<", ">", "{{", "}}", "${", "%(",
    "$(", "env(", "environ", "getenv", "vault:", "ref+", "file:", "none", "null",
)  # fmt: skip

_TEMPLATE = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_]+%$|^\$\{.*\}$|^\{\{.*\}\}$")


_PROVIDER_PLACEHOLDERS = ("example", "xxxxx", "00000", "dummy", "sample", "redacted", "fake")


def looks_like_placeholder(value: str, name: str = "", *, generic: bool = True) -> bool:
    """True for values that are no real secret: templates, references, fill-me-ins.
    ``generic=False`` (provider patterns) checks only for documentation placeholders."""
    lowered = value.lower()
    if len(set(value)) <= 2:  # "aaaaaaaa", "********", "12121212"
        return True
    if not generic:
        return any(word in lowered for word in _PROVIDER_PLACEHOLDERS)
    if _TEMPLATE.match(value) or any(word in lowered for word in _PLACEHOLDER_WORDS):
        return True
    bare = re.sub(r"[^a-z0-9]", "", lowered)
    name_bare = re.sub(r"[^a-z0-9]", "", name.lower())
    if name_bare and (bare in name_bare or name_bare in bare):
        return True  # password = "password", api_key: "MY_API_KEY"
    if re.fullmatch(r"[A-Z][A-Z0-9_]+", value) and "_" in value:
        return True  # a constant's or variable's name
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+", value) is not None
