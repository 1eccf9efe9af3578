"""Provider batch results on Dask: one partition per file, `collect_batch` in each worker.

A thin layer over `streamdantic.collect_batch` (no parsing of its own): `read_batch` expands
the files on the client and gives a `dask.bag.Bag` with one partition per file, each read by
`collect_batch` in a worker; `to_frames` turns that bag into two dask dataframes, the
validated objects (``model_dump`` rows) and one row per outcome. The same code runs on a
local scheduler, a `distributed.LocalCluster` or a remote scheduler; the files must be
readable at the same path on every worker (a shared or network file system).

Requires the ``dask`` extra (``pip install 'streamdantic[dask]'``); dask is imported on the
first call, not when this module is imported.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ._batch import (
    DEFAULT_BATCH_CHUNK_SIZE,
    BatchFailure,
    BatchFormat,
    BatchOnInvalid,
    BatchOutcome,
    BatchResult,
    HTTPFailure,
    _expand,
    _Options,
    collect_batch,
)

if TYPE_CHECKING:
    from dask.bag import Bag
    from dask.dataframe import DataFrame

__all__ = ["OUTCOME_COLUMNS", "read_batch", "to_frames"]

# The columns of the outcomes frame of `to_frames`, one row per outcome.
OUTCOME_COLUMNS = (
    "custom_id",
    "file",
    "line",
    "kind",
    "ok",
    "format",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "status_code",
    "message",
)
# The columns of the objects frame before the model's fields.
_OBJECT_KEYS = ("custom_id", "file", "line")


def _import_dask() -> Any:
    try:
        import dask.bag
    except ImportError as exc:
        raise ImportError("streamdantic.dask needs dask: pip install 'streamdantic[dask]'") from exc
    return dask.bag


def _read_partition(
    path: str,
    model: Any,
    format: BatchFormat,
    tool: str | None,
    on_invalid: BatchOnInvalid,
    chunk_size: int,
) -> Iterator[BatchOutcome]:
    """One partition: the outcomes of `collect_batch` over its file, lazily (in a worker).

    An iterator, not a list: the task that reads a partition is wrapped in dask's `reify`,
    which dask's bag optimizer removes when it fuses the next steps (``map``, ``filter``,
    ``to_dataframe``, a reduction) into the same task. Each outcome then goes through
    those steps and dies before the next line is read, instead of a file's validated
    objects all being alive at once, which makes the cyclic GC traverse them again and
    again (4.4 times the CPU on a 50 MB file). A partition that is itself an output (the
    bag computed as is) or that several steps read is made a list by `reify`.
    """
    return iter(
        collect_batch(
            Path(path),
            model,
            format=format,
            tool=tool,
            on_invalid=on_invalid,
            chunk_size=chunk_size,
        )
    )


def read_batch(
    source: Any,
    model: Any,
    /,
    *,
    format: BatchFormat = "auto",
    tool: str | None = None,
    on_invalid: BatchOnInvalid = "report",
    chunk_size: int = DEFAULT_BATCH_CHUNK_SIZE,
) -> Bag:
    """A dask bag of the outcomes of provider batch result files, one partition per file.

    The files are listed on the client, as `collect_batch` lists them; each partition is one
    file read by `collect_batch` in a worker, so the outcomes, their order within a file and
    their ``file``/``line`` are those of `collect_batch` over the same files. Nothing is read
    until the bag is computed.

    Args:
        source: a batch file (`pathlib.Path`), a directory (its files, sorted by name,
            hidden ones left out), or an iterable of paths such as
            ``Path("out").glob("*.jsonl.gz")``. Paths only: file objects and bytes cannot be
            opened in a worker. Workers open the paths as given, so on a remote cluster they
            must name the same files there (use absolute paths on a shared file system).
        model: the type of each request's output, as for `collect_batch`; it is pickled to
            the workers (define it in a module they can import, or let cloudpickle carry it).
        format, tool, on_invalid, chunk_size: as for `collect_batch`. With
            ``on_invalid="skip"`` the bag holds only the `BatchResult`\\ s; with
            ``"raise"``, computing the bag raises `BatchFailureError` at a failure.

    Returns:
        A `dask.bag.Bag` of `BatchOutcome` (`BatchResult` or a `BatchFailure` subclass),
        with one partition per file.

    Raises:
        ImportError: dask is not installed.
        ValueError: no files in ``source``, or a bad ``format``, ``on_invalid`` or
            ``chunk_size``.
        TypeError: a source that is not paths (str included: pass a `pathlib.Path`).
    """
    bag = _import_dask()
    _Options(model, format, tool, on_invalid, chunk_size)  # bad options fail here, not in a worker
    paths: list[str] = []
    for item in _expand(source):
        if not isinstance(item, os.PathLike):
            raise TypeError(
                "streamdantic.dask.read_batch() takes paths (a file, a directory, or an"
                f" iterable of paths), got {type(item).__name__}: a worker cannot open it;"
                " write it to a file the workers can read, or use collect_batch()"
            )
        paths.append(os.fspath(item))
    if not paths:
        raise ValueError(
            f"streamdantic.dask.read_batch() found no files in {source!r}: a dask bag needs at"
            " least one partition; check the directory or glob"
        )
    # One task per file, ``(reify, (_read_partition, path, ...))``: dask's own convention for
    # lazy partitions (as `Bag.map` and `Bag.filter` build theirs), see `_read_partition`.
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    options = (model, format, tool, on_invalid, chunk_size)
    name = "read_batch-" + tokenize(paths, *options)
    graph: dict[Any, Any] = {
        (name, index): (bag.core.reify, (_read_partition, path, *options))
        for index, path in enumerate(paths)
    }
    outcomes: Bag = bag.Bag(
        HighLevelGraph.from_collections(name, graph, dependencies=()), name, len(paths)
    )
    return outcomes


def _object_row(outcome: BatchOutcome) -> dict[str, Any] | None:
    if not isinstance(outcome, BatchResult):
        return None
    row: dict[str, Any] = {key: getattr(outcome, key) for key in _OBJECT_KEYS}
    value = outcome.value
    fields = value.model_dump() if isinstance(value, BaseModel) else {"value": value}
    for key, item in fields.items():
        if key in row:
            raise ValueError(
                f"the model's field {key!r} has the name of a column to_frames() adds"
                f" ({', '.join(_OBJECT_KEYS)}): rename the field or build the frame from"
                " the bag of outcomes with bag.map(...).to_dataframe()"
            )
        row[key] = item
    return row


def _outcome_row(outcome: BatchOutcome) -> dict[str, Any]:
    usage = outcome.usage
    return {
        "custom_id": outcome.custom_id,
        "file": outcome.file,
        "line": outcome.line,
        "kind": outcome.kind,
        "ok": outcome.ok,
        "format": outcome.format,
        "finish_reason": outcome.finish_reason,
        "input_tokens": usage.input_tokens if usage is not None else None,
        "output_tokens": usage.output_tokens if usage is not None else None,
        "status_code": outcome.status_code if isinstance(outcome, HTTPFailure) else None,
        "message": outcome.message if isinstance(outcome, BatchFailure) else None,
    }


def to_frames(bag: Bag, model: Any) -> tuple[DataFrame, DataFrame]:
    """The objects and the outcomes of a `read_batch` bag, as two dask dataframes.

    Args:
        bag: a bag of `BatchOutcome`, as `read_batch` gives.
        model: the model the bag was read with; a pydantic model gives one column per field
            (its ``model_dump()``), any other type one ``value`` column.

    Returns:
        ``(objects, outcomes)``, lazy, one partition per partition of the bag:
        ``objects`` has a row per `BatchResult`: ``custom_id``, ``file``, ``line``, then the
        model's fields (object dtype, as ``model_dump`` gives them; cast with ``astype``);
        ``outcomes`` has a row per outcome with the columns `OUTCOME_COLUMNS` (``kind`` is
        ``"ok"`` or the failure's kind; the tokens and ``status_code`` are nullable ints; a missing text is NaN, as pandas
        reads None).

    Raises:
        ImportError: dask's dataframe extra (pandas, pyarrow) is not installed.
        ValueError: computing ``objects`` finds a model field named like one of its first
            three columns.
    """
    _import_dask()
    try:
        pd: Any = importlib.import_module("pandas")
    except ImportError as exc:
        raise ImportError(
            "streamdantic.dask.to_frames() needs pandas: pip install 'streamdantic[dask]'"
        ) from exc
    names = (
        list(model.model_fields)
        if isinstance(model, type) and issubclass(model, BaseModel)
        else ["value"]
    )
    objects_meta = pd.DataFrame(
        {
            "custom_id": pd.Series([], dtype=object),
            "file": pd.Series([], dtype=object),
            "line": pd.Series([], dtype="int64"),
            **{name: pd.Series([], dtype=object) for name in names},
        }
    )
    dtypes = {"line": "int64", "ok": bool, "input_tokens": "Int64", "output_tokens": "Int64"}
    dtypes["status_code"] = "Int64"
    outcomes_meta = pd.DataFrame(
        {name: pd.Series([], dtype=dtypes.get(name, object)) for name in OUTCOME_COLUMNS}
    )
    outcome_bag: Any = bag
    objects = outcome_bag.map(_object_row).filter(_is_row).to_dataframe(meta=objects_meta)
    outcomes = outcome_bag.map(_outcome_row).to_dataframe(meta=outcomes_meta)
    return objects, outcomes


def _is_row(row: dict[str, Any] | None) -> bool:
    return row is not None
