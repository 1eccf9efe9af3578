"""streamdantic.dask on a real distributed.LocalCluster of worker processes on 127.0.0.1.

The client connects by the scheduler's address, as it would to a remote scheduler; the
batch files are generated in tmp_path (a bad line, a gzip file, two formats)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import distributed
import pytest

from streamdantic import BatchFailureError, collect_batch, dask as sd_dask
from streamdantic.batch import BatchOutcome, BatchResult

from ..unit.test_batch import Person, anthropic, gemini, lines, openai_chat


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler's HTTP server (metrics, health) starts even without the
            # dashboard, on 8787 unless told: a free port, so another cluster on this
            # machine (a benchmark, a notebook) does not turn into a warning here.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        distributed.Client(cluster.scheduler_address) as connected,
    ):
        yield connected


@pytest.fixture
def batch_dir(tmp_path: Path) -> Path:
    (tmp_path / "a-openai.jsonl").write_bytes(
        lines(
            openai_chat("a1"),
            "{oops",
            openai_chat("a3", '{"name": "Ada", "age": "old"}'),
            openai_chat("a4", status=429),
        )
    )
    (tmp_path / "b-anthropic.jsonl.gz").write_bytes(
        gzip.compress(lines(anthropic("b1"), anthropic("b2", kind="expired"), anthropic("b3")))
    )
    (tmp_path / "c-gemini.jsonl").write_bytes(
        lines(gemini("c1"), gemini("c2", finish="MAX_TOKENS"))
    )
    return tmp_path


def test_bag_outcomes_equal_collect_batch_with_one_partition_per_file(
    client: distributed.Client, batch_dir: Path
) -> None:
    """The bag, computed on the cluster's workers, holds collect_batch's outcomes in order."""
    bag = sd_dask.read_batch(batch_dir, Person)
    assert bag.npartitions == 3
    with distributed.get_task_stream(client) as tasks:
        got: list[BatchOutcome] = client.compute(bag).result()
    expected = list(collect_batch(batch_dir, Person))
    assert got == expected
    assert [(o.kind, o.custom_id, Path(o.file).name, o.line) for o in got] == [
        ("ok", "a1", "a-openai.jsonl", 1),
        ("malformed_line", None, "a-openai.jsonl", 2),
        ("validation_error", "a3", "a-openai.jsonl", 3),
        ("http_error", "a4", "a-openai.jsonl", 4),
        ("ok", "b1", "b-anthropic.jsonl.gz", 1),
        ("provider_error", "b2", "b-anthropic.jsonl.gz", 2),
        ("ok", "b3", "b-anthropic.jsonl.gz", 3),
        ("ok", "c1", "c-gemini.jsonl", 1),
        ("ok", "c2", "c-gemini.jsonl", 2),
    ]
    workers = set(client.scheduler_info()["workers"])
    ran = {task["worker"] for task in tasks.data if task["key"][0].startswith("read_batch-")}
    assert ran and ran <= workers


def test_a_glob_and_a_list_give_the_same_bag(client: distributed.Client, batch_dir: Path) -> None:
    """Paths are expanded on the client like collect_batch's: a glob, or a list of paths."""
    from_glob = sd_dask.read_batch(sorted(batch_dir.glob("*.jsonl*")), Person)
    from_list = sd_dask.read_batch(
        [batch_dir / "c-gemini.jsonl", batch_dir / "a-openai.jsonl"], Person
    )
    assert client.compute(from_glob).result() == list(collect_batch(batch_dir, Person))
    assert [o.custom_id for o in client.compute(from_list).result()] == [
        "c1",
        "c2",
        "a1",
        None,
        "a3",
        "a4",
    ]


def test_frames_hold_model_dump_rows_and_one_row_per_outcome(
    client: distributed.Client, batch_dir: Path
) -> None:
    """to_frames: objects are model_dump rows with custom_id/file/line; outcomes all kinds."""
    objects, outcomes = sd_dask.to_frames(sd_dask.read_batch(batch_dir, Person), Person)
    assert list(objects.columns) == ["custom_id", "file", "line", "name", "age"]
    assert list(outcomes.columns) == list(sd_dask.OUTCOME_COLUMNS)
    rows, table = client.compute([objects, outcomes], sync=True)
    expected = [o for o in collect_batch(batch_dir, Person) if isinstance(o, BatchResult)]
    assert rows.to_dict("records") == [
        {"custom_id": o.custom_id, "file": o.file, "line": o.line, **o.value.model_dump()}
        for o in expected
    ]
    assert list(table["custom_id"].where(table["custom_id"].notna(), None)) == [
        "a1",
        None,
        "a3",
        "a4",
        "b1",
        "b2",
        "b3",
        "c1",
        "c2",
    ]
    assert table["kind"].value_counts().to_dict() == {
        "ok": 5,
        "malformed_line": 1,
        "validation_error": 1,
        "http_error": 1,
        "provider_error": 1,
    }
    assert table["ok"].sum() == 5
    http = table[table["kind"] == "http_error"].iloc[0]
    assert (http["status_code"], http["line"]) == (429, 4)
    assert table["input_tokens"].sum() == 10 + 10 + 30 + 30 + 7 + 7


def test_on_invalid_skip_and_raise_on_the_cluster(
    client: distributed.Client, batch_dir: Path
) -> None:
    """skip keeps only results; raise reaches the client as BatchFailureError with its outcome."""
    kept = client.compute(sd_dask.read_batch(batch_dir, Person, on_invalid="skip")).result()
    assert [o.custom_id for o in kept] == ["a1", "b1", "b3", "c1", "c2"]
    with pytest.raises(BatchFailureError) as caught:
        client.compute(
            sd_dask.read_batch(batch_dir / "a-openai.jsonl", Person, on_invalid="raise")
        ).result()
    assert (caught.value.outcome.kind, caught.value.outcome.line) == ("malformed_line", 2)


def test_sources_a_worker_cannot_open_are_refused_on_the_client(tmp_path: Path) -> None:
    """Bytes, a str, an empty directory and bad options fail in read_batch, not in a worker."""
    with pytest.raises(TypeError, match="a worker cannot open it"):
        sd_dask.read_batch([lines(openai_chat("1"))], Person)
    with pytest.raises(TypeError, match="pathlib.Path"):
        sd_dask.read_batch(str(tmp_path), Person)
    with pytest.raises(ValueError, match="found no files"):
        sd_dask.read_batch(tmp_path, Person)
    (tmp_path / "x.jsonl").write_bytes(lines(openai_chat("1")))
    with pytest.raises(ValueError, match="format must be one of"):
        sd_dask.read_batch(tmp_path, Person, format="csv")  # type: ignore[arg-type]
