"""The public API is exactly these names; changing it is a decision, not an accident."""

import pytest

import opsforge

PUBLIC = {
    "AsyncConnection",
    "AsyncGroup",
    "AuthError",
    "Become",
    "CommandFailed",
    "CommandTimeout",
    "ConnectError",
    "ConnectOptions",
    "Connection",
    "Group",
    "GroupError",
    "GroupResult",
    "HostKeyError",
    "HostKeyPolicy",
    "HostSpec",
    "HostStatus",
    "Inventory",
    "OpsforgeError",
    "Result",
    "Secret",
    "TransferError",
    "UnreachableError",
    "__version__",
    "connect",
    "load_inventory",
}


def test_public_names_are_pinned() -> None:
    assert set(opsforge.__all__) == PUBLIC


def test_every_public_name_resolves() -> None:
    for name in opsforge.__all__:
        assert getattr(opsforge, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        opsforge.no_such_thing  # type: ignore[attr-defined]  # noqa: B018


def test_errors_share_one_root() -> None:
    import opsforge.errors as errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.OpsforgeError), name


def test_secret_never_shows() -> None:
    secret = opsforge.Secret("hunter2")
    assert str(secret) == "***"
    assert "hunter2" not in repr(secret)
    assert f"{secret}" == "***"
    assert secret.reveal() == "hunter2"


def test_lazy_exports_match_all() -> None:
    assert set(opsforge._EXPORTS) | {"__version__"} == set(opsforge.__all__)
