# ruff: noqa: S608 -- SQL is assembled from constant fragments only; every value is a bound parameter.
"""Reads of the gazetteer: search, autocomplete, detail, nearby names, duplicate check, exports.

Search runs in SQL on indexed columns (see ``placenames.models``): exact and prefix matches use
b-tree indexes on "C"-collated columns, one index range scan per rank (larger divisions first);
fuzzy matches use pg_trgm GIN indexes. Points are EPSG:4326; distances are geodesic metres.
"""

import datetime
import json
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import QuerySet

from boundaries.models import Division
from gis_portal.core.errors import InvalidParameter, NotFound
from placenames.models import PlaceName, PlaceNameVariant
from placenames.text import pinyin_plain, query_normalise

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
TIERS = {1: "exact", 2: "prefix", 3: "pinyin", 4: "fuzzy"}
RANKS = (0, 1, 2, 3, 4)
SEARCHABLE_VARIANTS = ("alias", "former", "minority")
# The fuzzy pass (the costliest: 5-40 ms at a million names) runs only when the better tiers found
# fewer names than this, i.e. only when nothing matched exactly, by prefix or by sound.
FUZZY_BELOW = 1
# Pinyin word-similarity thresholds tried in turn: the stricter one is about three times cheaper on
# the GIN index (fewer candidate rows to recheck); the looser one runs only if it found nothing.
WORD_SIMILARITY_STEPS = (0.7, 0.6)
MAX_QUERY = 64  # longer queries cannot match a name (names are at most 64 characters)


@dataclass
class SearchFilters:
    level: str | None = None
    district_id: int | None = None
    cluster: str | None = None
    date: datetime.date | None = None
    params: dict = field(default_factory=dict)

    def sql(self, alias: str = "p", *, validity: str | None = None) -> str:
        """SQL conditions on a place name ``alias``; ``validity`` is the alias whose
        valid_from/valid_to the ``date`` filter checks (the name or the variant that matched)."""
        parts = []
        if self.level:
            parts.append(f"{alias}.feature_class = %(level)s")
        if self.district_id:
            parts.append(f"{alias}.district_id = %(district_id)s")
        if self.cluster:
            parts.append(f"{alias}.cluster_id = %(cluster)s")
        if self.date:
            v = validity or alias
            parts.append(
                f"({v}.valid_from IS NULL OR {v}.valid_from <= %(date)s)"
                f" AND ({v}.valid_to IS NULL OR {v}.valid_to >= %(date)s)"
            )
        return "".join(f" AND {part}" for part in parts)

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


def _per_rank(*, column: str, tier: int, kind: str, pattern: str, filters: SearchFilters) -> str:
    """Prefix matches of ``column``, at most %(k)s per rank, each read from the (rank, column) index."""
    return f"""
    SELECT x.* FROM unnest(ARRAY{list(RANKS)}) AS r(rank) CROSS JOIN LATERAL (
        SELECT p.id AS pid, {tier} AS tier, '{kind}' AS kind, p.{column}::text AS matched,
               NULL::bigint AS vid, 0.5::real AS score
          FROM placenames_placename p
         WHERE p.rank = r.rank AND p.{column} LIKE {pattern} {filters.sql()}
         ORDER BY p.{column} LIMIT %(k)s) x"""


def _candidates_sql(*, chinese: bool, filters: SearchFilters, prefix: bool, homophones: bool) -> str:
    f, fv = filters.sql(), filters.sql(validity="v")
    variants = f"""
    SELECT v.placename_id, CASE WHEN v.{{col}} = %(q)s THEN 1 ELSE 2 END, v.kind, v.name::text, v.id, 1.0::real
      FROM placenames_placenamevariant v JOIN placenames_placename p ON p.id = v.placename_id
     WHERE v.kind IN {SEARCHABLE_VARIANTS} AND v.{{col}} LIKE %(qlike)s {fv}
     LIMIT 200"""
    if chinese:
        branches = [
            f"SELECT p.id, 1, 'name', p.name::text, NULL::bigint, 1.0::real FROM placenames_placename p "
            f"WHERE p.name = %(q)s {f}",
            f"SELECT p.id, 1, 'specific', p.specific::text, NULL::bigint, 1.0::real FROM placenames_placename p "
            f"WHERE p.specific = %(q)s {f}",
            variants.format(col="name"),
        ]
        if prefix:
            branches.append(_per_rank(column="name", tier=2, kind="name", pattern="%(qlike)s", filters=filters))
        if homophones and prefix:
            branches.append(
                _per_rank(column="pinyin_plain", tier=3, kind="pinyin", pattern="%(qplike)s", filters=filters)
            )
    else:
        branches = [
            f"SELECT p.id, 1, 'pinyin', p.pinyin_plain::text, NULL::bigint, 1.0::real FROM placenames_placename p "
            f"WHERE p.pinyin_plain = %(q)s {f}",
            f"SELECT p.id, 1, 'initials', p.initials::text, NULL::bigint, 1.0::real FROM placenames_placename p "
            f"WHERE p.initials = %(q)s {f}",
            variants.format(col="pinyin_plain"),
        ]
        if prefix:
            branches.append(
                _per_rank(column="pinyin_plain", tier=2, kind="pinyin", pattern="%(qlike)s", filters=filters)
            )
            branches.append(_per_rank(column="initials", tier=2, kind="initials", pattern="%(qlike)s", filters=filters))
    return "\nUNION ALL\n".join(f"({b})" for b in branches)


def _fuzzy_sql(*, chinese: bool, filters: SearchFilters) -> str:
    """Chinese: trigram similarity of the characters (``%``, threshold 0.3). Pinyin: word similarity
    (``<%``, threshold 0.7 then 0.6), which tolerates a letter dropped or swapped inside a longer name and
    is far more selective on the GIN index than plain similarity over common pinyin trigrams."""
    if chinese:
        match, score = "p.name %% %(q)s", "similarity(p.name, %(q)s)"
    else:
        match, score = "%(q)s <%% p.pinyin_plain", "word_similarity(%(q)s, p.pinyin_plain)"
    column = "name" if chinese else "pinyin_plain"
    return f"""SELECT p.id, 4, 'fuzzy', p.{column}::text, NULL::bigint, {score}
                 FROM placenames_placename p WHERE {match} {filters.sql()}
                ORDER BY {score} DESC LIMIT %(k)s"""


RESULT_SQL = """
WITH cand(pid, tier, kind, matched, vid, score) AS ({candidates}),
best AS (SELECT DISTINCT ON (pid) * FROM cand ORDER BY pid, tier, score DESC, vid NULLS FIRST),
top AS (
    SELECT b.*, p.rank, p.name FROM best b JOIN placenames_placename p ON p.id = b.pid
     ORDER BY b.tier, p.rank, b.score DESC, length(p.name), p.name, p.id LIMIT %(limit)s
)
SELECT {columns}, top.tier, top.kind, top.matched, v.name, v.kind, v.valid_from, v.valid_to
  FROM top JOIN placenames_placename p ON p.id = top.pid
  {joins}
  LEFT JOIN placenames_placenamevariant v ON v.id = top.vid
 ORDER BY top.tier, top.rank, top.score DESC, length(top.name), top.name, top.pid
"""

# A place name's columns and its hierarchy (municipality down to the place's own division).
PLACE_COLUMNS = """p.id, p.name, p.pinyin, p.feature_class, p.is_synthetic, d.code, ST_AsGeoJSON(p.point, 6),
  a3.code, a3.name, a3.level, a2.code, a2.name, a2.level, a1.code, a1.name, a1.level, d.name, d.level"""
PLACE_JOINS = """LEFT JOIN boundaries_division d ON d.id = p.division_id
  LEFT JOIN boundaries_division a1 ON a1.id = p.parent_id
  LEFT JOIN boundaries_division a2 ON a2.id = a1.parent_id
  LEFT JOIN boundaries_division a3 ON a3.id = a2.parent_id"""
PLACE_WIDTH = 18


def _place(row: tuple) -> dict:
    (pid, name, pinyin, feature_class, synthetic, code, geojson, *chain) = row[:PLACE_WIDTH]
    hierarchy = []
    for i in range(0, len(chain) - 2, 3):
        if chain[i]:
            hierarchy.append({"code": chain[i], "name": chain[i + 1], "level": chain[i + 2]})
    if code:
        hierarchy.append({"code": code, "name": name, "level": chain[-1]})  # the standard name, no committee suffix
    return {
        "id": pid,
        "name": name,
        "pinyin": pinyin,
        "code": code,
        "feature_class": feature_class,
        "hierarchy": hierarchy,
        "is_synthetic": synthetic,
        "geometry": json.loads(geojson) if geojson else None,
    }


def _matched(row: tuple) -> dict:
    tier, kind, matched, v_name, v_kind, v_from, v_to = row[PLACE_WIDTH:]
    answer = {"tier": TIERS[tier], "field": kind, "text": v_name or matched, "former": v_kind == "former"}
    if v_kind:
        answer.update(
            variant=v_kind,
            valid_from=v_from.isoformat() if v_from else None,
            valid_to=v_to.isoformat() if v_to else None,
        )
    return answer


def placename_search(
    *, q: str, limit: int = 20, filters: SearchFilters | None = None, fuzzy: bool = True
) -> list[dict]:
    """Standard names matching ``q``, best first: exact (name, 专名, pinyin, initials, a former name
    or alias) > prefix > same pinyin as the query (homophones: 沙平坝 -> 沙坪坝区) > fuzzy (trigram
    similarity on the characters, word similarity on the pinyin); then larger divisions first. The
    fuzzy pass runs only when the better tiers found nothing (``FUZZY_BELOW``): a near-miss is worth
    its cost when the query found nothing else. Each answer carries ``matched``."""
    filters = filters or SearchFilters()
    text, chinese = query_normalise(q[: MAX_QUERY * 4])
    if not text or len(text) > MAX_QUERY:
        return []
    qp = pinyin_plain(text) if chinese else text
    params = {
        **filters.values(),
        "q": text,
        "qp": qp,
        "qlike": _like_prefix(text),
        "qplike": _like_prefix(qp),
        "k": limit,
        "limit": limit,
    }
    # Homophones from two characters on: one character's pinyin prefix matches too much.
    homophones = chinese and len(text) >= 2 and bool(qp)
    candidates = _candidates_sql(chinese=chinese, filters=filters, prefix=True, homophones=homophones)
    rows = _run(candidates, params)
    if fuzzy and len(rows) < FUZZY_BELOW and len(text) >= (2 if chinese else 3):
        # The fuzzy tier ranks last: its names (not found already) fill the remaining places.
        found = {row[0] for row in rows}
        fuzzy_sql, fuzzy_params = _fuzzy_sql(chinese=chinese, filters=filters), {**params, "limit": limit + len(rows)}
        fuzzy_rows = []
        for threshold in (() if chinese else WORD_SIMILARITY_STEPS) or (None,):
            fuzzy_rows = _run(fuzzy_sql, fuzzy_params, word_similarity=threshold)
            if fuzzy_rows:
                break
        rows += [row for row in fuzzy_rows if row[0] not in found][: limit - len(rows)]
    return [{**_place(row), "matched": _matched(row)} for row in rows]


def _run(candidates: str, params: dict, *, word_similarity: float | None = None) -> list[tuple]:
    sql = RESULT_SQL.format(candidates=candidates, columns=PLACE_COLUMNS, joins=PLACE_JOINS)
    # SET LOCAL semantics (set_config(..., true)) need a transaction; plain reads don't.
    with transaction.atomic() if word_similarity is not None else nullcontext(), connection.cursor() as cursor:
        if word_similarity is not None:
            cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(word_similarity)])
        cursor.execute(sql, params)
        return cursor.fetchall()


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


def _places_where(where: str, params: dict, *, order: str = "p.rank, p.name", limit: int | None = None) -> list[dict]:
    sql = f"SELECT {PLACE_COLUMNS} FROM placenames_placename p {PLACE_JOINS} WHERE {where} ORDER BY {order}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_place(row) for row in cursor.fetchall()]


def placename_detail(*, placename_id: int) -> dict:
    """One place with its hierarchy, variants (former names with dates) and recorded changes."""
    places = _places_where("p.id = %(id)s", {"id": placename_id}) if 0 < placename_id < 2**63 else []
    if not places:
        raise NotFound(f"no place name with id {placename_id}")
    place = places[0]
    obj = PlaceName.objects.get(pk=placename_id)
    place.update(
        specific=obj.specific,
        generic=obj.generic,
        pinyin_tone=obj.pinyin_tone,
        status=obj.status,
        meaning=obj.meaning,
        history_text=obj.history_text,
        approval_ref=obj.approval_ref,
        approval_date=obj.approval_date,
        valid_from=obj.valid_from,
        valid_to=obj.valid_to,
        variants=[
            {
                "kind": v.kind,
                "name": v.name,
                "pinyin": v.pinyin,
                "language": v.language,
                "valid_from": v.valid_from,
                "valid_to": v.valid_to,
                "note": v.note,
                "is_synthetic": v.is_synthetic,
            }
            for v in obj.variants.order_by("kind", "valid_from")
        ],
        changes=[
            {
                "date": h.history_date,
                "type": CHANGE_TYPES.get(h.history_type, h.history_type),
                "user": h.history_user.get_username() if h.history_user else None,
                "name": h.name,
                "reason": h.history_change_reason,
            }
            for h in obj.history.select_related("history_user").order_by("-history_date")[:20]
        ],
    )
    return place


def placename_nearby(*, lon: float, lat: float, limit: int = 10) -> list[dict]:
    """The ``limit`` names nearest to a WGS84 point with their geodesic distance in metres
    (spheroid). Candidates come from the GiST index by KNN ``<->`` (planar, in degrees), a margin
    more than asked; the answer is ordered by the geodesic distance."""
    sql = f"""SELECT {PLACE_COLUMNS}, p.distance_m
                FROM (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g) pt
                CROSS JOIN LATERAL (
                    SELECT c.*, ST_Distance(c.point::geography, pt.g::geography) AS distance_m
                      FROM (SELECT * FROM placenames_placename p WHERE p.point IS NOT NULL
                             ORDER BY p.point <-> pt.g LIMIT %(candidates)s) c
                     ORDER BY distance_m, c.id LIMIT %(limit)s) p
                {PLACE_JOINS}
               ORDER BY p.distance_m, p.id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"lon": lon, "lat": lat, "limit": limit, "candidates": limit * 3 + 20})
        return [{**_place(row), "distance_m": round(row[PLACE_WIDTH], 1)} for row in cursor.fetchall()]


def placename_duplicates(*, name: str, parent: Division) -> dict:
    """Conflicts of a proposed name under ``parent``: current or former names in the same district
    (or county) with the same name, the same 专名 and generic, or the same pinyin spelling
    (homophones), which the place-name regulations ask a bureau to avoid."""
    text, chinese = query_normalise(name)
    if not chinese or not text:
        raise InvalidParameter("name: a proposed name in Chinese characters")
    district = parent
    while district.level not in (Division.Level.DISTRICT, Division.Level.MUNICIPALITY):
        district = district.parent
    plain = pinyin_plain(text)
    scope = "p.district_id = %(district)s" if district.level == Division.Level.DISTRICT else "TRUE"
    params = {"name": text, "plain": plain, "district": district.id}
    conflicts = []
    for place in _places_where(f"{scope} AND (p.name = %(name)s OR p.pinyin_plain = %(plain)s)", params):
        place["conflict"] = "same_name" if place["name"] == text else "same_pinyin"
        conflicts.append(place)
    former = PlaceNameVariant.objects.filter(kind=PlaceNameVariant.Kind.FORMER, name=text)
    if district.level == Division.Level.DISTRICT:
        former = former.filter(placename__district=district)
    former_ids = list(former.values_list("placename_id", flat=True))
    if former_ids:
        for place in _places_where("p.id = ANY(%(ids)s)", {"ids": former_ids}):
            place["conflict"] = "former_name"
            conflicts.append(place)
    return {
        "name": text,
        "pinyin_plain": plain,
        "district": {"code": district.code, "name": district.name},
        "conflicts": conflicts,
        "ok": not conflicts,
    }


def placename_district_list(*, district: Division) -> QuerySet[PlaceName]:
    """The standard names of one district or county, in code order (for exports and the 地名录)."""
    return (
        PlaceName.objects.filter(district=district)
        .select_related("division", "parent")
        .order_by("rank", "division__code", "name")
    )
