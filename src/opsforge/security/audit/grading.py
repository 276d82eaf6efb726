"""Grade SSH algorithms the way ssh-audit does: ``fail`` (broken or distrusted),
``warn`` (weaker than it should be), ``ok``.

The facts behind the table (from ssh-audit's documentation and the OpenSSH release
notes): SHA-1 is broken for signatures and key exchange; 1024-bit DH (group1) is
within reach (Logjam) and 2048-bit groups give only 112 bits of security; the NIST
P-curves (ecdh-sha2-nistp*, ecdsa-sha2-nistp*) are distrusted; ssh-rsa host key
signatures use SHA-1; CBC cipher modes, 3DES, RC4, Blowfish and CAST are weak; MD5
and SHA-1 MACs are broken; MACs without ``-etm`` (encrypt-then-MAC) use the weaker
encrypt-and-MAC mode; umac-64 has a 64-bit tag.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GEX_KEX", "PSEUDO_KEX", "Grade", "grade", "modulus_grade"]

FAIL, WARN, OK, UNKNOWN = "fail", "warn", "ok", "unknown"

_SHA1 = "uses the broken SHA-1 hash"
_NIST = "uses a NIST P-curve (suspected backdoored)"
_EAM = "encrypt-and-MAC mode (prefer -etm)"

#: category -> algorithm -> (level, reasons)
_TABLE: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "kex": {
        "diffie-hellman-group1-sha1": (FAIL, ("1024-bit modulus", _SHA1)),
        "diffie-hellman-group14-sha1": (FAIL, (_SHA1,)),
        "diffie-hellman-group-exchange-sha1": (FAIL, (_SHA1,)),
        "rsa1024-sha1": (FAIL, ("1024-bit RSA", _SHA1)),
        "gss-gex-sha1-": (FAIL, (_SHA1,)),
        "gss-group1-sha1-": (FAIL, ("1024-bit modulus", _SHA1)),
        "gss-group14-sha1-": (FAIL, (_SHA1,)),
        "ecdh-sha2-nistp256": (FAIL, (_NIST,)),
        "ecdh-sha2-nistp384": (FAIL, (_NIST,)),
        "ecdh-sha2-nistp521": (FAIL, (_NIST,)),
        "diffie-hellman-group14-sha256": (WARN, ("2048-bit modulus: only 112 bits of security",)),
        "rsa2048-sha256": (WARN, ("2048-bit RSA: only 112 bits of security",)),
        "diffie-hellman-group-exchange-sha256": (OK, ()),  # graded by the modulus it hands out
        "diffie-hellman-group16-sha512": (OK, ()),
        "diffie-hellman-group18-sha512": (OK, ()),
        "curve25519-sha256": (OK, ()),
        "curve25519-sha256@libssh.org": (OK, ()),
        "curve448-sha512": (OK, ()),
        "sntrup761x25519-sha512": (OK, ()),
        "sntrup761x25519-sha512@openssh.com": (OK, ()),
        "mlkem768x25519-sha256": (OK, ()),
    },
    "host_key": {
        "ssh-rsa": (FAIL, (_SHA1 + " for signatures",)),
        "ssh-rsa-cert-v01@openssh.com": (FAIL, (_SHA1 + " for signatures",)),
        "ssh-dss": (FAIL, ("1024-bit DSA", _SHA1)),
        "ssh-dss-cert-v01@openssh.com": (FAIL, ("1024-bit DSA", _SHA1)),
        "ecdsa-sha2-nistp256": (FAIL, (_NIST,)),
        "ecdsa-sha2-nistp384": (FAIL, (_NIST,)),
        "ecdsa-sha2-nistp521": (FAIL, (_NIST,)),
        "ecdsa-sha2-nistp256-cert-v01@openssh.com": (FAIL, (_NIST,)),
        "ecdsa-sha2-nistp384-cert-v01@openssh.com": (FAIL, (_NIST,)),
        "ecdsa-sha2-nistp521-cert-v01@openssh.com": (FAIL, (_NIST,)),
        "sk-ecdsa-sha2-nistp256@openssh.com": (FAIL, (_NIST,)),
        "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com": (FAIL, (_NIST,)),
        "webauthn-sk-ecdsa-sha2-nistp256@openssh.com": (FAIL, (_NIST,)),
        "ssh-ed25519": (OK, ()),
        "ssh-ed25519-cert-v01@openssh.com": (OK, ()),
        "sk-ssh-ed25519@openssh.com": (OK, ()),
        "sk-ssh-ed25519-cert-v01@openssh.com": (OK, ()),
        "ssh-ed448": (OK, ()),
        "rsa-sha2-256": (OK, ()),
        "rsa-sha2-512": (OK, ()),
        "rsa-sha2-256-cert-v01@openssh.com": (OK, ()),
        "rsa-sha2-512-cert-v01@openssh.com": (OK, ()),
    },
    "cipher": {
        "none": (FAIL, ("no encryption",)),
        "3des-cbc": (FAIL, ("3DES: 64-bit blocks (Sweet32)", "CBC mode")),
        "des-cbc": (FAIL, ("DES", "CBC mode")),
        "blowfish-cbc": (FAIL, ("Blowfish: 64-bit blocks", "CBC mode")),
        "cast128-cbc": (FAIL, ("CAST-128: 64-bit blocks", "CBC mode")),
        "arcfour": (FAIL, ("RC4 is broken",)),
        "arcfour128": (FAIL, ("RC4 is broken",)),
        "arcfour256": (FAIL, ("RC4 is broken",)),
        "rijndael-cbc@lysator.liu.se": (FAIL, ("CBC mode",)),
        "aes128-cbc": (WARN, ("CBC mode",)),
        "aes192-cbc": (WARN, ("CBC mode",)),
        "aes256-cbc": (WARN, ("CBC mode",)),
        "aes128-ctr": (OK, ()),
        "aes192-ctr": (OK, ()),
        "aes256-ctr": (OK, ()),
        "aes128-gcm@openssh.com": (OK, ()),
        "aes256-gcm@openssh.com": (OK, ()),
        "chacha20-poly1305@openssh.com": (OK, ()),  # Terrapin: see the ssh-terrapin check
    },
    "mac": {
        "hmac-md5": (FAIL, ("MD5 is broken", _EAM)),
        "hmac-md5-96": (FAIL, ("MD5 is broken", _EAM)),
        "hmac-md5-etm@openssh.com": (FAIL, ("MD5 is broken",)),
        "hmac-md5-96-etm@openssh.com": (FAIL, ("MD5 is broken",)),
        "hmac-sha1": (FAIL, (_SHA1, _EAM)),
        "hmac-sha1-96": (FAIL, (_SHA1, _EAM)),
        "hmac-sha1-etm@openssh.com": (FAIL, (_SHA1,)),
        "hmac-sha1-96-etm@openssh.com": (FAIL, (_SHA1,)),
        "hmac-ripemd160": (FAIL, ("RIPEMD-160 is deprecated", _EAM)),
        "hmac-ripemd160@openssh.com": (FAIL, ("RIPEMD-160 is deprecated", _EAM)),
        "hmac-ripemd160-etm@openssh.com": (FAIL, ("RIPEMD-160 is deprecated",)),
        "umac-32@openssh.com": (FAIL, ("32-bit tag", _EAM)),
        "umac-64@openssh.com": (WARN, ("64-bit tag", _EAM)),
        "umac-64-etm@openssh.com": (WARN, ("64-bit tag",)),
        "umac-128@openssh.com": (WARN, (_EAM,)),
        "hmac-sha2-256": (WARN, (_EAM,)),
        "hmac-sha2-512": (WARN, (_EAM,)),
        "hmac-sha2-256-etm@openssh.com": (OK, ()),
        "hmac-sha2-512-etm@openssh.com": (OK, ()),
        "umac-128-etm@openssh.com": (OK, ()),
    },
}

#: markers servers list among their kex algorithms; never configured, never graded
PSEUDO_KEX = ("ext-info-", "kex-strict-")
GEX_KEX = ("diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1")


@dataclass(frozen=True)
class Grade:
    category: str  # kex | host_key | cipher | mac
    name: str
    level: str  # fail | warn | ok | unknown
    reasons: tuple[str, ...] = ()

    def __str__(self) -> str:
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"{self.name}{why}"


def grade(category: str, name: str) -> Grade:
    """The grade of one algorithm of ``category`` (kex, host_key, cipher, mac)."""
    table = _TABLE[category]
    if name in table:
        level, reasons = table[name]
        return Grade(category, name, level, reasons)
    for prefix, (level, reasons) in table.items():
        if prefix.endswith("-") and name.startswith(prefix):  # gss-*-sha1-<oid>
            return Grade(category, name, level, reasons)
    return Grade(category, name, UNKNOWN, ("not in the grading table",))


def modulus_grade(bits: int) -> Grade | None:
    """A finding for a group-exchange modulus of ``bits``, or None when it is big enough."""
    name = "diffie-hellman-group-exchange"
    if bits < 2048:
        return Grade("kex", name, FAIL, (f"{bits}-bit modulus (under 2048)",))
    if bits < 3072:
        return Grade("kex", name, WARN, (f"{bits}-bit modulus (under 3072)",))
    return None
