"""The public API: sorted __all__, every name importable and presented as streamdantic.X."""

from __future__ import annotations

import inspect

import streamdantic


def test_all_is_sorted_and_importable() -> None:
    """__all__ is sorted and every name in it exists."""
    names = streamdantic.__all__
    assert names == sorted(names, key=str)
    for name in names:
        assert hasattr(streamdantic, name), name


def test_exported_members_belong_to_the_package() -> None:
    """Exported classes and functions present themselves as members of streamdantic."""
    for name in streamdantic.__all__:
        member = getattr(streamdantic, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__ == "streamdantic", name


def test_exceptions_share_one_root() -> None:
    """Every exported exception derives from StreamdanticError."""
    for name in streamdantic.__all__:
        member = getattr(streamdantic, name)
        if inspect.isclass(member) and issubclass(member, BaseException):
            assert issubclass(member, streamdantic.StreamdanticError), name
