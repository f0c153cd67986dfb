"""Place-name search and autocomplete, in SQL on indexed columns (see ``placenames.models``):
exact and prefix matches use b-tree indexes on "C"-collated columns, one index range scan per rank
(larger divisions first); fuzzy matches use pg_trgm GIN indexes. The SQL is composed with
``gis_portal.core.sql``: every value (the labels of the match tiers too) is a bound parameter.
Each result is a GeoJSON Feature written by PostgreSQL: the place as the selectors write it
(``placenames.selectors.place_query``) with what matched (``MATCHED``).
"""

import datetime
import functools
import hashlib
import logging
from dataclasses import dataclass
from typing import NamedTuple

from boundaries.models import Division
from gis_portal.core import sql
from gis_portal.core.caching import cached
from gis_portal.core.errors import InvalidParameter
from placenames.models import PlaceName, PlaceNameVariant
from placenames.selectors import place_answer, place_query
from placenames.text import pinyin_plain, query_normalise

logger = logging.getLogger(__name__)

TIERS = {1: "exact", 2: "prefix", 3: "pinyin", 4: "fuzzy"}
RANKS = sorted({*PlaceName.RANK.values(), PlaceName.OTHER_RANK})  # 0 municipality ... 4 other features
# Variants a query can match; not the traditional-character form, as queries are simplified first.
SEARCHABLE_VARIANTS = ["alias", "former", "minority"]
VARIANT_CANDIDATES = 200  # variants matching by prefix that are read at most
# The fuzzy pass (the costliest: 5-40 ms at a million names) runs only when the better tiers found
# fewer names than this, i.e. only when nothing matched exactly, by prefix or by sound.
FUZZY_BELOW = 1
# Pinyin word-similarity thresholds tried in turn: the stricter one is about three times cheaper on
# the GIN index (fewer candidate rows to recheck); the looser one runs only if it found nothing.
WORD_SIMILARITY_STEPS = (0.7, 0.6)
MAX_QUERY = 64  # longer queries cannot match a name (names are at most 64 characters)
# Type-ahead asks for the same first characters over and over, and its query costs more to plan
# (2-8 ms) than to run (about 1 ms): answers are kept this long in the shared cache, so a name
# published or renamed shows in the suggestions within it (search itself answers at once).
AUTOCOMPLETE_CACHE_S = 60

# What a candidate row says of its match, bound as parameters: the tier (``TIERS``) and the field
# that matched (a variant's own kind stands in for the field when a variant matched); and the words
# the answer writes for them (the tier's name, the kind of a former name).
MATCH_LABELS = (
    {f"tier_{name}": tier for tier, name in TIERS.items()}
    | {f"tier_name_{name}": name for name in TIERS.values()}
    | {f"field_{field}": field for field in ("name", "specific", "pinyin", "initials", "fuzzy")}
    | {"variant_former": PlaceNameVariant.Kind.FORMER.value}
)


class FilterShape(NamedTuple):
    """Which search filters are set. The search's SQL depends on this only (the filters' values are
    parameters), so each form of the query is composed once."""

    level: bool = False
    district: bool = False
    cluster: bool = False
    date: bool = False

    def where(self, alias: str = "p", *, validity: str | None = None) -> sql.Composed:
        """SQL conditions on a place name ``alias``, each after an ``AND``; ``validity`` is the alias
        whose valid_from/valid_to the ``date`` filter checks (the name or the variant that matched).
        The values are the parameters of ``SearchFilters.values()``."""
        parts = []
        if self.level:
            parts.append(sql.compose(" AND {column} = %(level)s", column=sql.Identifier(alias, "feature_class")))
        if self.district:
            parts.append(sql.compose(" AND {column} = %(district_id)s", column=sql.Identifier(alias, "district_id")))
        if self.cluster:
            parts.append(sql.compose(" AND {column} = %(cluster)s", column=sql.Identifier(alias, "cluster_id")))
        if self.date:
            v = validity or alias
            parts.append(
                sql.compose(
                    " AND ({start} IS NULL OR {start} <= %(date)s) AND ({end} IS NULL OR {end} >= %(date)s)",
                    start=sql.Identifier(v, "valid_from"),
                    end=sql.Identifier(v, "valid_to"),
                )
            )
        return sql.Composed(parts)


@dataclass
class SearchFilters:
    level: str | None = None
    district_id: int | None = None
    cluster: str | None = None
    date: datetime.date | None = None

    def shape(self) -> FilterShape:
        return FilterShape(
            level=bool(self.level), district=bool(self.district_id), cluster=bool(self.cluster), date=bool(self.date)
        )

    def values(self) -> dict:
        return {"level": self.level, "district_id": self.district_id, "cluster": self.cluster, "date": self.date}


def search_filters(
    *, level: str | None = None, district: str | None = None, cluster: str | None = None, date=None
) -> SearchFilters:
    """Validate the filters; ``district`` is a 6-digit district code or a district's name."""
    district_id = None
    if district:
        lookup = {"code": district} if district.isdigit() else {"name": district}
        district_id = (
            Division.objects.filter(level=Division.Level.DISTRICT, **lookup).values_list("id", flat=True).first()
        )
        if district_id is None:
            raise InvalidParameter(f"district: no district or county {district!r}")
    return SearchFilters(level=level or None, district_id=district_id, cluster=cluster or None, date=date)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- the candidates of a search: one branch per way of matching ----------------------------------

# A place name whose ``column`` equals the query.
EXACT_SQL = """SELECT p.id, %(tier_exact)s, {field}, {column}::text, NULL::bigint, 1.0::real
  FROM {placename} p WHERE {column} = %(q)s{filters}"""

# Aliases, former names and minority-language spellings whose ``column`` starts with the query
# (exact when it equals it); the date filter checks the variant's own validity.
VARIANTS_SQL = """SELECT v.placename_id, CASE WHEN {column} = %(q)s THEN %(tier_exact)s ELSE %(tier_prefix)s END,
       v.kind, v.name::text, v.id, 1.0::real
  FROM {variant} v JOIN {placename} p ON p.id = v.placename_id
 WHERE v.kind = ANY(%(variant_kinds)s) AND {column} LIKE %(qlike)s{filters}
 LIMIT %(variant_candidates)s"""

# Place names whose ``column`` starts with ``pattern``: at most %(k)s per rank, each read from the
# (rank, column) index.
PREFIX_BY_RANK_SQL = """SELECT x.* FROM unnest(%(ranks)s) AS r(rank) CROSS JOIN LATERAL (
    SELECT p.id AS pid, {tier} AS tier, {field} AS kind, {column}::text AS matched,
           NULL::bigint AS vid, 0.5::real AS score
      FROM {placename} p
     WHERE p.rank = r.rank AND {column} LIKE {pattern}{filters}
     ORDER BY {column} LIMIT %(k)s) x"""

# Chinese: trigram similarity of the characters (``%``, threshold 0.3). Pinyin: word similarity
# (``<%``, threshold 0.7 then 0.6), which tolerates a letter dropped or swapped inside a longer name
# and is far more selective on the GIN index than plain similarity over common pinyin trigrams.
FUZZY_SQL = """SELECT p.id, %(tier_fuzzy)s, %(field_fuzzy)s, {column}::text, NULL::bigint, {score}
  FROM {placename} p WHERE {match}{filters}
 ORDER BY {score} DESC LIMIT %(k)s"""
FUZZY_CHINESE = ("{column} %% %(q)s", "similarity({column}, %(q)s)")
FUZZY_PINYIN = ("%(q)s <%% {column}", "word_similarity(%(q)s, {column})")


def _exact(*, column: str, field: str, shape: FilterShape) -> sql.Composed:
    return sql.compose(
        EXACT_SQL,
        field=sql.Placeholder(f"field_{field}"),
        column=sql.Identifier("p", column),
        filters=shape.where(),
        placename=PlaceName,
    )


def _variants(*, column: str, shape: FilterShape) -> sql.Composed:
    return sql.compose(
        VARIANTS_SQL,
        column=sql.Identifier("v", column),
        filters=shape.where(validity="v"),
        placename=PlaceName,
        variant=PlaceNameVariant,
    )


def _prefix_by_rank(*, column: str, tier: str, field: str, pattern: str, shape: FilterShape) -> sql.Composed:
    return sql.compose(
        PREFIX_BY_RANK_SQL,
        tier=sql.Placeholder(f"tier_{tier}"),
        field=sql.Placeholder(f"field_{field}"),
        column=sql.Identifier("p", column),
        pattern=sql.Placeholder(pattern),
        filters=shape.where(),
        placename=PlaceName,
    )


def _candidates(*, chinese: bool, shape: FilterShape, homophones: bool) -> sql.Composed:
    """Exact matches (name, 专名, a variant; or pinyin, initials, a variant's pinyin), then prefix
    matches by rank; with ``homophones``, names whose pinyin starts with the query's pinyin."""
    if chinese:
        branches = [
            _exact(column="name", field="name", shape=shape),
            _exact(column="specific", field="specific", shape=shape),
            _variants(column="name", shape=shape),
            _prefix_by_rank(column="name", tier="prefix", field="name", pattern="qlike", shape=shape),
        ]
        if homophones:
            branches.append(
                _prefix_by_rank(column="pinyin_plain", tier="pinyin", field="pinyin", pattern="qplike", shape=shape)
            )
    else:
        branches = [
            _exact(column="pinyin_plain", field="pinyin", shape=shape),
            _exact(column="initials", field="initials", shape=shape),
            _variants(column="pinyin_plain", shape=shape),
            _prefix_by_rank(column="pinyin_plain", tier="prefix", field="pinyin", pattern="qlike", shape=shape),
            _prefix_by_rank(column="initials", tier="prefix", field="initials", pattern="qlike", shape=shape),
        ]
    return sql.SQL("\nUNION ALL\n").join(sql.compose("({branch})", branch=branch) for branch in branches)


def _fuzzy(*, chinese: bool, shape: FilterShape) -> sql.Composed:
    column = sql.Identifier("p", "name" if chinese else "pinyin_plain")
    match, score = FUZZY_CHINESE if chinese else FUZZY_PINYIN
    return sql.compose(
        FUZZY_SQL,
        column=column,
        match=sql.compose(match, column=column),
        score=sql.compose(score, column=column),
        filters=shape.where(),
        placename=PlaceName,
    )


# Candidates ranked: each place once (by its best match), best tier first, then larger divisions,
# closer score, shorter name; each as its Feature, with the variant that matched, if any.
RANKED_SQL = """
WITH cand(pid, tier, kind, matched, vid, score) AS ({candidates}),
best AS (SELECT DISTINCT ON (pid) * FROM cand ORDER BY pid, tier, score DESC, vid NULLS FIRST),
top AS (
    SELECT b.*, p.rank, p.name FROM best b JOIN {placename} p ON p.id = b.pid
     ORDER BY b.tier, p.rank, b.score DESC, length(p.name), p.name, p.id LIMIT %(limit)s
)
SELECT p.id, {place_feature} AS feature
  FROM top JOIN {placename} p ON p.id = top.pid
  {place_joins}
  LEFT JOIN {variant} v ON v.id = top.vid
 ORDER BY top.tier, top.rank, top.score DESC, length(top.name), top.name, top.pid
"""

# The ``matched`` property of a result (``RANKED_SQL``'s ``top`` and ``v``): the tier's name, the
# field that matched, the text it matched (the variant's name when a variant matched) and whether
# that is a former name; for a variant also its kind and validity dates (YYYY-MM-DD or null).
MATCHED_SQL = """CASE WHEN v.id IS NULL
    THEN json_build_object('tier', {tier}, 'field', top.kind, 'text', top.matched, 'former', FALSE)
    ELSE json_build_object('tier', {tier}, 'field', top.kind, 'text', COALESCE(NULLIF(v.name, ''), top.matched),
                           'former', v.kind = %(variant_former)s, 'variant', v.kind,
                           'valid_from', v.valid_from, 'valid_to', v.valid_to)
END"""
MATCHED = (
    "matched",
    sql.compose(
        MATCHED_SQL,
        tier=sql.compose(
            "CASE top.tier {cases} END",
            cases=sql.join(
                (
                    sql.compose(
                        "WHEN {tier} THEN {name}",
                        tier=sql.Placeholder(f"tier_{name}"),
                        name=sql.Placeholder(f"tier_name_{name}"),
                    )
                    for name in TIERS.values()
                ),
                " ",
            ),
        ),
    ),
)


@functools.cache
def _search_query(*, chinese: bool, homophones: bool, shape: FilterShape) -> sql.Composed:
    """The ranked search over the exact, prefix and homophone candidates."""
    return place_query(
        RANKED_SQL, extra=(MATCHED,), candidates=_candidates(chinese=chinese, shape=shape, homophones=homophones)
    )


@functools.cache
def _fuzzy_query(*, chinese: bool, shape: FilterShape) -> sql.Composed:
    """The ranked search over the fuzzy candidates."""
    return place_query(RANKED_SQL, extra=(MATCHED,), candidates=_fuzzy(chinese=chinese, shape=shape))


def _ranked(query: sql.Composable, params: dict, *, word_similarity: float | None = None) -> list[dict]:
    settings = None if word_similarity is None else {"pg_trgm.word_similarity_threshold": str(word_similarity)}
    return sql.rows(query, params, local_settings=settings)


def placename_search_text(
    *, q: str, limit: int = 20, filters: SearchFilters | None = None, fuzzy: bool = True
) -> list[str]:
    """Standard names matching ``q``, best first: exact (name, 专名, pinyin, initials, a former name
    or alias) > prefix > same pinyin as the query (homophones: 沙平坝 -> 沙坪坝区) > fuzzy (trigram
    similarity on the characters, word similarity on the pinyin); then larger divisions first. The
    fuzzy pass runs only when the better tiers found nothing (``FUZZY_BELOW``): a near-miss is worth
    its cost when the query found nothing else. Each answer is a GeoJSON Feature written by
    PostgreSQL (``placenames.selectors.place_query``), its properties ending with ``matched``."""
    filters = filters or SearchFilters()
    text, chinese = query_normalise(q[: MAX_QUERY * 4])
    if not text or len(text) > MAX_QUERY:
        return []
    qp = pinyin_plain(text) if chinese else text
    params = {
        **filters.values(),
        **MATCH_LABELS,
        "q": text,
        "qlike": _like_prefix(text),
        "qplike": _like_prefix(qp),
        "ranks": RANKS,
        "variant_kinds": SEARCHABLE_VARIANTS,
        "variant_candidates": VARIANT_CANDIDATES,
        "k": limit,
        "limit": limit,
    }
    # Homophones from two characters on: one character's pinyin prefix matches too much.
    homophones = chinese and len(text) >= 2 and bool(qp)
    shape = filters.shape()
    rows = _ranked(_search_query(chinese=chinese, homophones=homophones, shape=shape), params)
    if fuzzy and len(rows) < FUZZY_BELOW and len(text) >= (2 if chinese else 3):
        # The fuzzy tier ranks last: its names (not found already) fill the remaining places.
        found = {row["id"] for row in rows}
        fuzzy_query, fuzzy_params = _fuzzy_query(chinese=chinese, shape=shape), {**params, "limit": limit + len(rows)}
        fuzzy_rows = []
        for threshold in (() if chinese else WORD_SIMILARITY_STEPS) or (None,):
            fuzzy_rows = _ranked(fuzzy_query, fuzzy_params, word_similarity=threshold)
            if fuzzy_rows:
                break
        rows += [row for row in fuzzy_rows if row["id"] not in found][: limit - len(rows)]
    return [row["feature"] for row in rows]


def placename_search(
    *, q: str, limit: int = 20, filters: SearchFilters | None = None, fuzzy: bool = True
) -> list[dict]:
    """``placename_search_text`` as dicts: each place's properties (``matched`` too) and geometry."""
    return [place_answer(text) for text in placename_search_text(q=q, limit=limit, filters=filters, fuzzy=fuzzy)]


def placename_autocomplete(*, q: str, limit: int = 10) -> list[dict]:
    """Type-ahead: exact and prefix matches only (no fuzzy pass), with a label carrying the
    district and township so that same names can be told apart."""
    results = placename_search(q=q, limit=limit, fuzzy=False)
    answer = []
    for item in results:
        above = [
            h["name"] for h in item["hierarchy"] if h["level"] in ("district", "township") and h["name"] != item["name"]
        ]
        label = item["name"] + (f"（{' '.join(above)}）" if above else "")
        if item["matched"]["former"]:
            label += f" ← {item['matched']['text']}"
        answer.append(
            {"id": item["id"], "name": item["name"], "pinyin": item["pinyin"], "code": item["code"], "label": label}
        )
    return answer


def placename_autocomplete_cached(*, q: str, limit: int = 10) -> list[dict]:
    """``placename_autocomplete`` kept ``AUTOCOMPLETE_CACHE_S`` in the shared cache (computed when
    the cache is down)."""
    key = "autocomplete:" + hashlib.sha1(f"{limit}:{q}".encode()).hexdigest()  # noqa: S324 (a cache key)
    return cached(key, AUTOCOMPLETE_CACHE_S, lambda: placename_autocomplete(q=q, limit=limit))
