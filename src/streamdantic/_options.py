"""Keyword options: unknown names refused as Python refuses them, old names accepted with a
`DeprecationWarning` that points at the user's line, however deep in the package it starts."""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["check_options", "rename_options", "warn_deprecated"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_deprecated(message: str) -> None:
    """Issue a `DeprecationWarning` attributed to the first caller outside streamdantic."""
    level = 2  # 1 is this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def rename_options(
    options: dict[str, Any], renamed: Mapping[str, str], where: str
) -> dict[str, Any]:
    """Accept old keyword names (old -> new in `renamed`) with a `DeprecationWarning`.

    Raises:
        TypeError: both the old and the new name were given.
    """
    for old, new in renamed.items():
        if old in options:
            if new in options:
                raise TypeError(f"{where}() got both {old}= and {new}=; pass only {new}=")
            warn_deprecated(f"{where}({old}=...) is deprecated; use {new}= instead")
            options[new] = options.pop(old)
    return options


def check_options(options: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
    """Refuse an option name that `where` does not take, suggesting the closest one.

    Raises:
        TypeError: an unknown option, as Python raises it for an unknown keyword argument.
    """
    for name in options:
        if name not in allowed:
            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}{hint}")
