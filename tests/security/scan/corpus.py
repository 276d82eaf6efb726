"""The scanner test corpus, written by the tests into a temporary directory.

Fake credentials are generated at run time (seeded, so runs repeat) from each
provider's alphabet and shape, so no credential-looking literal sits in this
repository. ``SECRETS`` lists what must be found, ``LOOK_ALIKES`` what must not.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_RNG = random.Random(20261124)
_ALNUM = string.ascii_letters + string.digits
_UPPER = string.ascii_uppercase + string.digits


def rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt() -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "svc-deploy", "iat": 1764000000}).encode())
    return f"{header}.{payload}.{b64url(_RNG.randbytes(32))}"


def make_private_key() -> str:
    key = Ed25519PrivateKey.from_private_bytes(_RNG.randbytes(32))
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class Case:
    path: str
    text: str
    #: (rule id, line) pairs that must be reported; empty for look-alikes
    expected: tuple[tuple[str, int], ...] = ()


AWS_ID = "AKIA" + rand(16, _UPPER)
AWS_SECRET = rand(40, _ALNUM + "/+")
GITHUB = "ghp_" + rand(36)
GITHUB_FINE = "github_pat_" + rand(22) + "_" + rand(59)
GITLAB = "glpat-" + rand(20)
SLACK = "xoxb-" + rand(11, string.digits) + "-" + rand(12, string.digits) + "-" + rand(24)
SLACK_HOOK = f"https://hooks.slack.com/services/T{rand(8, _UPPER)}/B{rand(8, _UPPER)}/{rand(24)}"
STRIPE = "sk_live_" + rand(24)
GOOGLE = "AIza" + rand(35, _ALNUM + "-_")
NPM = "npm_" + rand(36)
PYPI = "pypi-AgEIcHlwaS5vcmc" + rand(60, _ALNUM + "-_")
JWT = make_jwt()
PRIVATE_KEY = make_private_key()
DB_PASSWORD = "Xk29!vLq7pZ" + rand(3, string.digits)
INI_PASSWORD = "s3cr3t" + rand(6) + "9"
CLIENT_SECRET = rand(28)
SIGNING_KEY = base64.b64encode(_RNG.randbytes(30)).decode()
PG_PASSWORD = "Pg!2024-prod-" + rand(4)
COMPOSE_PASSWORD = "Wq8#mZ2!" + rand(6)
HEX_API_KEY = _RNG.randbytes(16).hex()

SECRETS = (
    Case(
        "deploy/.env",
        f"# production\nAWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
        (("secret.aws-access-key", 2), ("secret.aws-secret-key", 3)),
    ),
    Case(
        "app/settings.py",
        f'DEBUG = False\nGITHUB_TOKEN = "{GITHUB}"\nSTRIPE_KEY = "{STRIPE}"\n',
        (("secret.github-token", 2), ("secret.stripe-key", 3)),
    ),
    Case("ci/vars.sh", f"export GL_TOKEN={GITLAB}\n", (("secret.gitlab-token", 1),)),
    Case("ci/fine.txt", f"pat: {GITHUB_FINE}\n", (("secret.github-token", 1),)),
    Case(
        "integrations/slack.json",
        json.dumps({"bot": {"token": SLACK}, "webhook": SLACK_HOOK}, indent=2) + "\n",
        (("secret.slack-token", 3), ("secret.slack-webhook", 5)),
    ),
    Case("keys/deploy_key", PRIVATE_KEY, (("secret.private-key", 1),)),
    Case("app/auth.py", f'SERVICE_JWT = "{JWT}"\n', (("secret.jwt", 1),)),
    Case(
        "config/settings.yaml",
        f'db:\n  db_password: "{DB_PASSWORD}"\n',
        (("secret.password-assignment", 2),),
    ),
    Case(
        "config/app.ini", f"[db]\npassword = {INI_PASSWORD}\n", (("secret.password-assignment", 2),)
    ),
    Case(
        "config/oauth.json",
        json.dumps({"client_secret": CLIENT_SECRET}) + "\n",
        (("secret.password-assignment", 1),),
    ),
    Case("config/jwt.yml", f"signing_key: {SIGNING_KEY}\n", (("secret.high-entropy-string", 1),)),
    Case("web/maps.js", f'const mapsKey = "{GOOGLE}";\n', (("secret.google-api-key", 1),)),
    Case(".npmrc", f"//registry.npmjs.org/:_authToken={NPM}\n", (("secret.npm-token", 1),)),
    Case(
        ".pypirc", f"[pypi]\nusername = __token__\npassword = {PYPI}\n", (("secret.pypi-token", 3),)
    ),
    Case(
        "app/db.py",
        f'conn = connect(host="db", password="{PG_PASSWORD}")\n',
        (("secret.password-assignment", 1),),
    ),
    Case(
        "compose.yml",
        f"services:\n  db:\n    environment:\n      MYSQL_ROOT_PASSWORD: {COMPOSE_PASSWORD}\n",
        (("secret.password-assignment", 4),),
    ),
    Case(
        "scripts/deploy.sh",
        f'export API_KEY="{HEX_API_KEY}"\n',
        (("secret.password-assignment", 1),),
    ),
)

LOOK_ALIKES = (
    Case("docs/aws.md", "Example key id: AKIAIOSFODNN7EXAMPLE\n"),
    Case("app/env.py", 'password = os.environ["DB_PASSWORD"]\napi_key = get_secret("api")\n'),
    Case(
        "deploy/values.yaml",
        'password: ${DB_PASSWORD}\nadmin_password: "{{ vault_admin_password }}"\n'
        "token: $CI_JOB_TOKEN\nsecret_name: my-app-secret\n",
    ),
    Case(
        "config/example.py",
        'api_key = "<your-api-key>"\nsecret = "changeme"\npassword = "xxxxxxxx"\n'
        'PASSWORD = "********"\npassword_field = "password"\ntoken_type = "bearer"\n'
        'PASSWORD_PROMPT = "Enter password: "\nupdate_password = "always"\n',
    ),
    Case(
        "config/ids.py",
        'client_id = "3f2b8c1e-9a7d-4e6f-8b2a-1c5d7e9f0a3b"\n'
        'session_token_id = "7d1e2f3a-4b5c-4d6e-8f70-1a2b3c4d5e6f"\n',
    ),
    Case("docs/tokens.md", "GitHub tokens look like ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.\n"),
    Case("app/pem.py", 'PEM_HEADER = "-----BEGIN PRIVATE KEY-----"\n'),
    Case(
        "app/notjwt.py",
        f'blob = "{b64url(b"{}")}x.{b64url(b"{}")}xxxxxxxxxxxx.abcdefghijklmnopq"\n',
    ),
    Case("app/stripe_test.py", 'stripe.api_key = "sk_test_xxxxxxxxxxxxxxxxxxxxxxxx"\n'),
    Case("app/seq.py", 'key = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"\n'),
    Case(
        "Pipfile.lock",
        json.dumps(
            {
                "default": {
                    "requests": {
                        "hashes": [
                            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                        ],
                        "version": "==2.32.3",
                    }
                }
            },
            indent=2,
        )
        + "\n",
    ),
    Case(
        "requirements.txt",
        "requests==2.32.3 \\\n    --hash=sha256:"
        "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6\n",
    ),
    Case("app/urls.py", 'auth_url = "https://auth.example.org/token"\n'),
    Case(".github/workflows/deploy.yml.txt", 'token = "${{ secrets.DEPLOY_TOKEN }}"\n'),
    Case(
        "keys/id_ed25519.pub.txt", "public_key: AAAAC3NzaC1lZDI1NTE5AAAAIGx5Zm9vYmFyYmF6cXV4MTIz\n"
    ),
    Case("app/digest.py", 'checksum_key = "e83c5163316f89bfbde7d9ab23ca2e25604af290"\n'),
)


def write_cases(root: Path, cases: tuple[Case, ...]) -> None:
    for case in cases:
        path = root / case.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(case.text, encoding="utf-8")


def secret_values() -> list[str]:
    """Every planted secret (for the redaction checks)."""
    return [
        AWS_ID, AWS_SECRET, GITHUB, GITHUB_FINE, GITLAB, SLACK, STRIPE, GOOGLE, NPM, PYPI, JWT,
        DB_PASSWORD, INI_PASSWORD, CLIENT_SECRET, SIGNING_KEY, PG_PASSWORD, COMPOSE_PASSWORD,
        HEX_API_KEY, PRIVATE_KEY.splitlines()[1],
    ]  # fmt: skip
