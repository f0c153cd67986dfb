"""The sandbox a survey file is read in: each limit (CPU, memory, wall clock) ends the child and
answers 422 with the reason, quickly; a refusal raised in the child comes back as its class; the
child's answer is plain data; nothing is left running. No database: the targets are below."""

import os
import time

import pytest

from boundaries.surveys.sandbox import ChildLimits, LimitExceeded, sandbox_run
from gis_portal.core.errors import Conflict, InvalidData, Unprocessable

LIMITS = ChildLimits(cpu_seconds=2, wall_seconds=5, memory_bytes=256 * 1024 * 1024, file_bytes=1024 * 1024)
# The machine is shared (2 cores): a child burning 2 s of CPU may take longer on the wall clock.
CPU_LIMITS = ChildLimits(cpu_seconds=2, wall_seconds=30, memory_bytes=256 * 1024 * 1024, file_bytes=1024 * 1024)


def echo(*, data: bytes) -> tuple[dict, bytes]:
    return {"pid": os.getpid(), "length": len(data)}, data[::-1]


def burn_cpu() -> tuple[dict, bytes]:
    while True:
        pass


def sleep() -> tuple[dict, bytes]:
    time.sleep(60)
    return {}, b""


def allocate() -> tuple[dict, bytes]:
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024 * 1024))


def write_big_file(*, path: str) -> tuple[dict, bytes]:
    with open(path, "wb") as sink:
        sink.write(b"x" * (4 * 1024 * 1024))
    return {}, b""


def refuse() -> tuple[dict, bytes]:
    raise Conflict("already there")


def crash() -> tuple[dict, bytes]:
    os.abort()


def fail() -> tuple[dict, bytes]:
    raise KeyError("a reader bug")


def test_plain_data_in_and_out_of_a_child():
    result = sandbox_run(echo, kwargs={"data": b"abc"}, limits=LIMITS, refusals={})
    assert result.header["length"] == 3 and result.blob == b"cba"
    assert result.header["pid"] != os.getpid()
    assert {"cpu_s", "peak_rss_mb", "wall_s"} <= set(result.stats)


@pytest.mark.parametrize(
    ("target", "limits", "phrase", "bound_s"),
    [
        (burn_cpu, CPU_LIMITS, "more than 2 s of CPU time", 15),
        (sleep, LIMITS, "longer than 5 s", 7),
        (allocate, LIMITS, "more than 256 MB of memory", 10),
    ],
)
def test_each_limit_answers_422_with_the_reason(target, limits, phrase, bound_s):
    start = time.monotonic()
    with pytest.raises(LimitExceeded) as hit:
        sandbox_run(target, kwargs={}, limits=limits, refusals={}, what="walk.gpx")
    assert time.monotonic() - start < bound_s
    assert hit.value.status == 422 and hit.value.code == "limit_exceeded"
    assert hit.value.message.startswith("walk.gpx cannot be processed within the limits")
    assert phrase in hit.value.message


def test_the_child_cannot_write_large_files(tmp_path):
    with pytest.raises(LimitExceeded, match="write more than 1 MB"):
        sandbox_run(write_big_file, kwargs={"path": str(tmp_path / "big")}, limits=LIMITS, refusals={})


def test_a_refusal_comes_back_as_its_class_and_a_crash_as_422():
    with pytest.raises(Conflict, match="already there"):
        sandbox_run(refuse, kwargs={}, limits=LIMITS, refusals={"Conflict": Conflict})
    with pytest.raises(InvalidData, match="already there"):  # a class the caller did not name
        sandbox_run(refuse, kwargs={}, limits=LIMITS, refusals={})
    with pytest.raises(LimitExceeded, match="broke the reader"):
        sandbox_run(crash, kwargs={}, limits=LIMITS, refusals={})
    with pytest.raises(Unprocessable, match="the reader failed: KeyError"):
        sandbox_run(fail, kwargs={}, limits=LIMITS, refusals={})
