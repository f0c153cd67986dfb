"""Whole layers kept in the shared cache (Redis) for the GIS clients that read them again and again:
QGIS, ArcGIS and GDAL read a layer whole, page after page, every time a project opens. A layer is
kept as the feature texts PostgreSQL wrote (UTF-8, comma-separated, with where each ends, so that
a page is sliced out without a feature being parsed or copied one by one), in chunks of ``CHUNK``
features, under a key that names
the exact SQL of the layer (collection, CRS, tolerance, today's date where a property depends on
it) and the committed state of every table it reads (``selectors.items_state``):
a write to any of them gives the layer a new key, so an answer is never older than the data. Old
keys expire after ``OGC_LAYER_CACHE_SECONDS``. A page of a layer not kept yet is read from the
database as before, and the layer is read whole and kept once that page has been sent
(``KeepingLayerResponse``): the client does not wait for it.

Only a whole layer is kept: a selection (``bbox``, ``filter``, property=value, ``datetime``) is
read from the database as before, so what the cache can hold is bounded by the collections, the
CRSs and the tolerances in ``CACHED_SIMPLIFY_M``, each under ``OGC_LAYER_CACHE_MAX_BYTES``. The
cache is an aid (``gis_portal.core.caching``): when it is down, or a chunk has been evicted, the
page is read from the database. A layer is read whole by one worker at a time (the others read
their pages from the database meanwhile), and only once for each state of its data: the reads it
costs are bounded by the layers there are, not by the requests, so it takes no heavy-request slot
(a client paging through a layer would find the slot taken by the reading its first page began).
"""

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import StreamingHttpResponse

from gis_portal.core.caching import CACHE_ERRORS, cache_down
from gis_portal.portal.ogc.selectors import ItemsQuery, items_stream

logger = logging.getLogger(__name__)

CHUNK = 1000  # features a cache entry holds
# Tolerances (metres) kept: none, and the round ones clients share; any other is read afresh.
CACHED_SIMPLIFY_M = (0, 10, 50, 100, 500)
TOO_LARGE = -1  # kept under a layer's key instead of its count
BUILD_LOCK_S = 60  # a worker that died while reading a layer holds no one up longer than this


@dataclass(frozen=True)
class LayerPage:
    matched: int  # features in the whole layer
    features: list[memoryview]  # the page's features, runs of comma-separated UTF-8 feature texts


def _chunk(texts: list[bytes]) -> tuple[bytes, list[int]]:
    """A cache entry: the features joined by commas, and where each ends (a page is a slice)."""
    ends, end = [], -1
    for text in texts:
        end += 1 + len(text)
        ends.append(end)
    return b",".join(texts), ends


def _chunk_slice(chunk: tuple[bytes, list[int]], first: int, last: int) -> memoryview:
    """Features ``first`` to ``last`` (exclusive) of a chunk, commas between them."""
    data, ends = chunk
    return memoryview(data)[(ends[first - 1] + 1 if first else 0) : ends[last - 1]]


def layer_key(query: ItemsQuery, state: str) -> str | None:
    """The cache key of the layer a query reads in the data's ``state`` (``items_state``), or None:
    not a whole layer (a selection, or a collection computed per request), a tolerance not kept, or
    the cache switched off."""
    if settings.OGC_LAYER_CACHE_SECONDS <= 0:
        return None
    if query.where or query.params or query.simplify_m not in CACHED_SIMPLIFY_M:
        return None
    return f"ogc-layer:{query.collection.id}:{state}"


def layer_page(key: str, *, limit: int, offset: int) -> LayerPage | None:
    """A page of a kept layer, or None: not kept (or partly evicted), or the cache is down."""
    try:
        matched = cache.get(key)
        if matched is None or matched == TOO_LARGE:
            return None
        if offset >= matched:
            return LayerPage(matched, [])
        end = min(offset + limit, matched)
        names = [f"{key}:{index}" for index in range(offset // CHUNK, (end - 1) // CHUNK + 1)]
        chunks = cache.get_many(names)
    except CACHE_ERRORS as exc:
        cache_down("layers read from the database", exc)
        return None
    if len(chunks) < len(names):
        return None
    pieces = []
    for index, name in enumerate(names, start=offset // CHUNK):
        first = max(offset - index * CHUNK, 0)
        last = min(end - index * CHUNK, CHUNK)
        pieces.append(_chunk_slice(chunks[name], first, last))
    return LayerPage(matched, pieces)


def layer_keep(key: str, query: ItemsQuery) -> bool:
    """Read the whole layer from the database and keep it under ``key``: True when kept. False when
    another worker is reading it, the cache is down or the layer is larger than
    ``OGC_LAYER_CACHE_MAX_BYTES`` (remembered, so that it is not read again for nothing while its
    data stay the same); its pages are then read from the database."""
    timeout = settings.OGC_LAYER_CACHE_SECONDS
    lock = f"{key}:reading"
    try:
        if cache.get(key) == TOO_LARGE or not cache.add(lock, 1, BUILD_LOCK_S):
            return False
    except CACHE_ERRORS as exc:
        cache_down("layers read from the database", exc)
        return False
    started = time.perf_counter()
    try:
        count = size = 0
        chunk: list[bytes] = []
        features = items_stream(query, limit=None, offset=0)
        try:
            for text in features:
                chunk.append(text.encode())
                size += len(chunk[-1])
                if size > settings.OGC_LAYER_CACHE_MAX_BYTES:
                    logger.info("layer %s not kept: over %d bytes", query.collection.id, size)
                    cache.set(key, TOO_LARGE, timeout)
                    return False
                if len(chunk) == CHUNK:
                    cache.set(f"{key}:{count // CHUNK}", _chunk(chunk), timeout)
                    count, chunk = count + len(chunk), []
        finally:
            features.close()  # ends the cursor and its transaction when the layer is abandoned
        if chunk:
            cache.set(f"{key}:{count // CHUNK}", _chunk(chunk), timeout)
            count += len(chunk)
        cache.set(key, count, timeout)  # last: a reader finds the count only with every chunk
    except CACHE_ERRORS as exc:
        cache_down("layers read from the database", exc)
        return False
    finally:
        with contextlib.suppress(CACHE_ERRORS):  # else it expires
            cache.delete(lock)
    logger.info(
        "layer %s kept: %d features, %.1f MB, read in %.2f s",
        query.collection.id,
        count,
        size / 1e6,
        time.perf_counter() - started,
    )
    return True


class KeepingLayerResponse(StreamingHttpResponse):
    """A page streamed from the database that, once it has been sent (the server closes the
    response after the last byte), has its layer read whole and kept: ``keep`` runs then."""

    def __init__(self, *args, keep: Callable[[], object], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._keep = keep

    def close(self) -> None:
        keep, self._keep = self._keep, None
        try:
            if keep is not None:
                keep()
        except Exception:  # the answer has gone: a failure here must not touch it
            logger.exception("keeping a layer failed")
        finally:
            super().close()
