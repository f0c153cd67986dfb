"""Progress bars for commands that run longer than a few seconds (tqdm on standard error, shown only
at a terminal, so logs and tests stay clean)."""

from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, total: int | None = None, unit: str = "step") -> Iterator[T]:
    """``items`` with a progress bar named ``desc`` when standard error is a terminal."""
    return iter(tqdm(items, desc=desc, total=total, unit=unit, disable=None, leave=False, dynamic_ncols=True))
