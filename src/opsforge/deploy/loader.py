"""Load a Python deploy file: a module with a ``deploy(host)`` function.

The module is executed once, inside an error boundary: a syntax error or an
exception at import names the file and line. The function is called once per
host with that host's :class:`~opsforge.deploy.context.HostContext`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from opsforge.deploy.planner import DeployFunc, user_code_error
from opsforge.errors import InputError

__all__ = ["ENTRY_POINTS", "load_python_deploy"]

#: The names looked up in a deploy module, in order.
ENTRY_POINTS = ("deploy", "main")


def _exec_module(path: Path) -> ModuleType:
    name = f"opsforge_deploy_{abs(hash(str(path))):x}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError("cannot load this file as Python", path=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise InputError(f"syntax error: {exc.msg}", path=str(path), line=exc.lineno) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        raise user_code_error(exc, f"{path}:", "") from None
    finally:
        sys.path.remove(str(path.parent))
    return module


def load_python_deploy(path: str | Path) -> DeployFunc:
    """The deploy function of the module at ``path``."""
    file = Path(path).resolve()
    if not file.is_file():
        raise InputError("no such deploy file", path=str(path))
    module = _exec_module(file)
    for name in ENTRY_POINTS:
        func = getattr(module, name, None)
        if callable(func):
            return func  # type: ignore[no-any-return]
    raise InputError(
        "no deploy function: define `def deploy(host): ...` "
        f"(looked for {', '.join(ENTRY_POINTS)})",
        path=str(path),
    )
