"""Where opsforge keeps its state: run history, logs of runs, later infra state.

``$OPSFORGE_STATE_DIR`` when set (and not empty), else the platform's user state
directory for "opsforge" (``~/.local/state/opsforge`` on Linux, honouring
``$XDG_STATE_HOME``). Directories are created on demand with mode 0700: run logs
can hold command output that is nobody else's business.
"""

from __future__ import annotations

import os
from pathlib import Path

from opsforge.errors import StateError

__all__ = ["ENV_VAR", "ensure_private_dir", "state_dir"]

#: Environment variable that overrides the state directory.
ENV_VAR = "OPSFORGE_STATE_DIR"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700, parents as needed) unless it exists; return it.

    Raises :class:`~opsforge.errors.StateError` naming the path when it cannot
    be created or is not a directory. An existing directory keeps its mode.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise StateError(f"state directory {path} exists and is not a directory") from None
    except OSError as exc:
        raise StateError(f"cannot create state directory {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise StateError(f"state directory {path} exists and is not a directory")
    return path


def state_dir(*, create: bool = True) -> Path:
    """The state directory (see the module docstring), created unless ``create=False``."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if raw:
        path = Path(raw).expanduser()
    else:
        import platformdirs  # only when not given (its import is most of this module's)

        path = Path(platformdirs.user_state_dir("opsforge", appauthor=False))
    return ensure_private_dir(path) if create else path
