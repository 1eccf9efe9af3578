# The compiled core of the JSON parser (_speedups.c); see streamdantic._parser (and
# streamdantic._text_step for the stream's text step).
from typing import Any

class GeneratorShell:
    _generator: Any
    def __iter__(self) -> GeneratorShell: ...
    def __next__(self) -> Any: ...

class ParserCore:
    value: Any
    def feed(self, data: str | bytes, /) -> list[Any]: ...
    def _consume(self, text: str, /) -> list[Any]: ...

def setup(
    started: type, appended: type, completed: type, document: type, limit_error: type, /
) -> None: ...
def prescan(
    state: list[int],
    data: bytes | bytearray | memoryview,
    base: int,
    step: int,
    max_depth: int,
    max_string: int,
    max_number: int,
    jsonl: bool,
    /,
) -> tuple[list[int], int, int, int]: ...
def setup_snapshots(frame: type, model: type, /) -> None: ...
def own_path(frame: Any, epoch: int, validator: Any, /) -> Any: ...
def setup_updates(update: type, /) -> None: ...
def new_update(
    cls: type[Any],
    index: int,
    partial: Any,
    events: tuple[Any, ...],
    completed: tuple[Any, ...],
    elements: tuple[Any, ...],
    errors: tuple[Any, ...],
    parts: tuple[Any, ...],
    done: bool,
    final: Any,
    finish_reason: str | None,
    usage: Any,
    /,
) -> Any: ...
def setup_text_step(emitter: type, pipeline: type, router: type, /) -> None: ...

class TextStep:
    def __init__(self, core: Any, pipeline: Any, emitter: Any, router: Any) -> None: ...
    def __call__(self, item: Any, /) -> list[Any]: ...

class Outputs:
    def __init__(self, step: Any, iterator: Any, every: bool) -> None: ...
    def __iter__(self) -> Outputs: ...
    def __next__(self) -> Any: ...
