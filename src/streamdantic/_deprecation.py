"""Deprecation warnings that point at the user's line, however deep in the package they start."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["rename_options", "warn_deprecated"]

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
