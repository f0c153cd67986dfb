"""Running a reader of untrusted files in a child process with limits.

Each call runs in a process of its own, forked from a multiprocessing *forkserver*: a fresh
interpreter (never a fork of a gunicorn worker with its threads and database connections) that has
the readers imported once, so a child starts in milliseconds. The child gets the bytes and the
limits, lowers its own resource limits before it reads anything (CPU seconds, address space, size
of the files it writes, open files, no core dumps) and answers over a pipe with plain data: one JSON
document and one binary blob, never a pickle (the parent does not unpickle what a child that read a
hostile file sends). The parent waits at most the wall-clock limit, kills the child past it, and
raises ``LimitExceeded`` (422) saying which limit was hit; a refusal the reader raised
(a ``ServiceError``) is raised again in the parent with its message.
"""

import errno
import io
import json
import logging
import multiprocessing
import os
import resource
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import forkserver, popen_forkserver, spawn, util
from multiprocessing.context import reduction, set_spawning_popen

from gis_portal.core.errors import InvalidData, ServiceError, Unprocessable

logger = logging.getLogger(__name__)

# The forkserver imports the readers once; every child is forked from it with them loaded.
PRELOAD = ["boundaries.surveys.parsing", "boundaries.surveys.ogr"]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)
MAX_HEADER_BYTES = 64 * 1024 * 1024


class _Popen(popen_forkserver.Popen):
    """The forkserver's Popen, without the parent's ``__main__``: the standard one asks every child
    to run the parent's main script again (as ``__mp_main__``), which under gunicorn or pytest costs
    an import and under a script without a ``__name__`` guard runs the script. A sandbox child needs
    only the modules its target lives in. Otherwise the steps of ``popen_forkserver.Popen._launch``
    (CPython 3.11-3.13)."""

    def _launch(self, process_obj) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(_CONTEXT.Process):
    @staticmethod
    def _Popen(process_obj) -> _Popen:
        return _Popen(process_obj)


@dataclass(frozen=True)
class ChildLimits:
    cpu_seconds: int
    wall_seconds: float
    memory_bytes: int  # address space the child may add to what it has when it starts
    file_bytes: int  # the largest file the child may write (its temporary copies)
    open_files: int = 64
    result_bytes: int = 256 * 1024 * 1024


@dataclass
class ChildResult:
    header: dict
    blob: bytes
    stats: dict  # cpu_s, peak_rss_mb and wall_s of the child, blocked network requests


class LimitExceeded(Unprocessable):
    code = "limit_exceeded"


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _apply_limits(limits: ChildLimits) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    space = _address_space() + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (space, space))


def _own_stats(start: float) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    blocked = []
    try:
        from boundaries.surveys.ogr import blocked_requests

        blocked = blocked_requests[:10]
    except ImportError:  # pragma: no cover - the readers are preloaded
        pass
    return {
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "wall_s": round(time.monotonic() - start, 3),
        "blocked_requests": blocked,
    }


def _child_main(connection, target: Callable, kwargs: dict, limits: ChildLimits) -> None:
    start = time.monotonic()
    blob = b""
    try:
        _apply_limits(limits)
        header, blob = target(**kwargs)
        message = {"ok": header}
    except ServiceError as exc:
        message = {"refused": {"type": type(exc).__name__, "message": exc.message}}
    except MemoryError:
        message = {"limit": "memory"}
    except Exception as exc:  # a reader's bug or a library failing on the input: reported, not raised
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:  # Python ignores SIGXFSZ: the write fails
            message = {"limit": "file"}
        else:
            message = {"failed": f"{type(exc).__name__}: {exc}"[:300], "traceback": traceback.format_exc()[-3000:]}
    message["stats"] = _own_stats(start)
    connection.send_bytes(json.dumps(message).encode())
    connection.send_bytes(blob)
    connection.close()


def _limit_reason(exitcode: int | None, limits: ChildLimits) -> str:
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return f"reading it needed more than {limits.cpu_seconds} s of CPU time"
    if exitcode == -signal.SIGXFSZ:
        return f"reading it needed to write more than {limits.file_bytes // (1024 * 1024)} MB"
    return (
        f"the reader stopped (exit {exitcode}): reading it needed more than "
        f"{limits.memory_bytes // (1024 * 1024)} MB of memory, or the file broke the reader"
    )


def sandbox_run(
    target: Callable[..., tuple[dict, bytes]],
    *,
    kwargs: dict,
    limits: ChildLimits,
    refusals: dict[str, type[ServiceError]],
    what: str = "the file",
) -> ChildResult:
    """Run ``target(**kwargs)`` (a module-level function returning a JSON-able dict and bytes) in a
    child with ``limits``. A ``ServiceError`` it raises comes back as the class of that name in
    ``refusals`` (``InvalidData`` if unknown); a limit hit raises ``LimitExceeded`` (422)."""
    stats = {}
    try:
        return _run(target, kwargs=kwargs, limits=limits, refusals=refusals, what=what, stats=stats)
    except ServiceError as exc:
        exc.reader_stats = stats  # what reading cost, for the caller's log; not sent to the user
        raise


def _run(target, *, kwargs, limits, refusals, what, stats: dict) -> ChildResult:
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _Process(target=_child_main, args=(sender, target, kwargs, limits), daemon=True)
    start = time.monotonic()
    deadline = start + limits.wall_seconds
    process.start()
    sender.close()
    stats["wall_s"] = None
    try:
        try:
            if not receiver.poll(max(0.0, deadline - time.monotonic())):
                raise LimitExceeded(
                    f"{what} cannot be processed within the limits: reading it took longer than "
                    f"{limits.wall_seconds:g} s; nothing was stored"
                )
            message = json.loads(receiver.recv_bytes(MAX_HEADER_BYTES))
            if not receiver.poll(max(0.0, deadline - time.monotonic())):
                raise LimitExceeded(f"{what} cannot be processed within the limits: reading it took too long")
            blob = receiver.recv_bytes(limits.result_bytes)
        except (EOFError, OSError, ValueError):
            process.join(timeout=2)
            reason = _limit_reason(process.exitcode, limits)
            logger.warning("survey file reader stopped: exit %s, %s", process.exitcode, reason)
            raise LimitExceeded(f"{what} cannot be processed within the limits: {reason}; nothing was stored") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        receiver.close()
    stats.update(message.pop("stats", {}) | {"wall_s": round(time.monotonic() - start, 3)})
    if stats.get("blocked_requests"):
        logger.warning("survey file reader blocked network requests: %s", stats["blocked_requests"])
    if "ok" in message:
        return ChildResult(header=message["ok"], blob=blob, stats=stats)
    if "refused" in message:
        refused = message["refused"]
        raise refusals.get(refused["type"], InvalidData)(refused["message"])
    if message.get("limit") == "file":
        raise LimitExceeded(
            f"{what} cannot be processed within the limits: reading it needed to write more than "
            f"{limits.file_bytes // (1024 * 1024)} MB; nothing was stored"
        )
    if message.get("limit") == "memory":
        logger.warning("survey file reader hit the memory limit: %s", stats)
        raise LimitExceeded(
            f"{what} cannot be processed within the limits: reading it needed more than "
            f"{limits.memory_bytes // (1024 * 1024)} MB of memory; nothing was stored"
        )
    logger.error("survey file reader failed: %s\n%s", message.get("failed"), message.get("traceback", ""))
    failure = str(message.get("failed", "reader failed")).split(":")[0]
    raise Unprocessable(f"{what} cannot be read (the reader failed: {failure}); nothing was stored")
