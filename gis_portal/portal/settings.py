"""Settings, all read from the environment (and the untracked .env file beside manage.py)."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from dotenv import load_dotenv

from gis_portal.core import dbdriver  # noqa: F401  (first: Django keeps psycopg2 beside psycopg 3)
from gis_portal.core.region import REGION_BOUNDS

BASE_DIR = Path(__file__).resolve().parent.parent.parent
load_dotenv(BASE_DIR / ".env")  # never overrides variables already set in the environment


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or ("insecure-dev-key" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY is not set: run scripts/setup.sh or set it in the environment")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/gis_portal"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.contrib.gis.db.backends.postgis":
    raise RuntimeError("DATABASE_URL must use the postgis:// scheme: PostGIS is the only database")

# Read replicas (gis_portal.core.replicas): streaming replicas of the primary, comma-separated URLs
# (none by default). The public's reads go to one that is in recovery and no more than
# REPLICA_MAX_LAG_SECONDS behind (checked every REPLICA_CHECK_SECONDS in each process), writes to
# the primary; a client that wrote reads the primary for READ_PRIMARY_AFTER_WRITE_SECONDS.
DATABASE_REPLICAS = []
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS", ""), 1):
    _replica = dj_database_url.parse(_url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True)
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise RuntimeError(f"DATABASE_REPLICA_URLS: replica {_number} must use the postgis:// scheme")
    # Read-only sessions: a write routed there by mistake fails instead of landing on a wrong server.
    _replica["OPTIONS"] = {**_replica.get("OPTIONS", {}), "connect_timeout": 2}
    _replica["OPTIONS"]["options"] = "-c default_transaction_read_only=on"
    _replica["TEST"] = {"MIRROR": "default"}  # physical replication copies the test database too
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
DATABASE_ROUTERS = ["gis_portal.core.replicas.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "5"))
REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "3"))
READ_PRIMARY_AFTER_WRITE_SECONDS = int(os.environ.get("READ_PRIMARY_AFTER_WRITE_SECONDS", "15"))

# Jobs (gis_portal.jobs, procrastinate): a worker says it is alive this often; one silent for
# JOBS_STALLED_SECONDS is taken for dead and its running jobs are retried.
JOBS_HEARTBEAT_SECONDS = float(os.environ.get("JOBS_HEARTBEAT_SECONDS", "10"))
JOBS_STALLED_SECONDS = float(os.environ.get("JOBS_STALLED_SECONDS", "60"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "axes",
    "csp",
    "simple_history",
    "procrastinate.contrib.django",
    "gis_portal.core",
    "gis_portal.jobs",
    "gis_portal.portal",
    "boundaries",
    "boundaries.surveys",
    "placenames",
    "placenames.office",
    "facilities",
]

MIDDLEWARE = [
    "gis_portal.core.logs.RequestLogMiddleware",  # first: it times and logs the whole request
    "gis_portal.core.replicas.ReadReplicaMiddleware",  # early: every later read is routed
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # early: its header goes on every response, error pages included
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gis_portal.core.limits.RequestLimitsMiddleware",  # before any view reads the body
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "gis_portal.core.pages.ServiceErrorMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers locked-out sign-ins
]

# Sign-in: django-axes locks a username at one address out after repeated failures.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gis_portal.portal.accounts.api.lockout_response"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "map"
LOGOUT_REDIRECT_URL = "map"

ROOT_URLCONF = "gis_portal.portal.urls"
WSGI_APPLICATION = "gis_portal.portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese (Simplified) first; the UI switches to English.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "gis_portal" / "portal" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Survey uploads' original files: outside the code directory (never served by it, never shipped
# with it), created by scripts/setup.sh; files 0640 and directories 0750, not world-readable.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", "/var/lib/gis-portal/media"))
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Survey uploads (boundaries.surveys.parsing.UploadLimits): bytes, features, vertices, layers, zip
# members and size, and what the sandboxed reader may spend (CPU s, wall-clock s, address space).
SURVEY_UPLOAD_LIMITS = {
    "max_bytes": int(os.environ.get("SURVEY_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)),
    "max_features": 10_000,
    "max_vertices": 1_000_000,
    "max_layers": 20,
    "max_zip_members": 20,
    "max_zip_uncompressed": 100 * 1024 * 1024,
    "max_cpu_seconds": 15,
    "max_wall_seconds": 20.0,
    "max_memory_bytes": 1024 * 1024 * 1024,
}
# Survey uploads larger than this (bytes) are validated by a job worker: the request answers 202
# with the job (boundaries.surveys.services.survey_upload_enqueue), the bytes wait in PostgreSQL.
SURVEY_UPLOAD_JOB_BYTES = int(os.environ.get("SURVEY_UPLOAD_JOB_BYTES", 1024 * 1024))
# Uploads larger than this stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "gis_portal.core.limits.BodyLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Request bodies (gis_portal.core.limits): the paths that take files accept the upload limit (plus
# the multipart envelope); every other path Django's form-data limit. A longer body is refused
# before it is read (413). The reverse proxy should say the same (docs/DEPLOYMENT.md).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Photos of place-name signs reported by survey teams (placenames.office.signs.photo_validate).
PLACENAME_PHOTO_MAX_BYTES = int(os.environ.get("PLACENAME_PHOTO_MAX_BYTES", 8 * 1024 * 1024))
# Batch locate (boundaries.locate_batch): a CSV (id, x, y) or GeoJSON of at most this many points.
LOCATE_BATCH_LIMITS = {"max_bytes": 16 * 1024 * 1024, "max_points": 100_000}
REQUEST_BODY_LIMITS = {
    "/api/v1/survey-uploads": SURVEY_UPLOAD_LIMITS["max_bytes"] + 65_536,
    "/surveys/": SURVEY_UPLOAD_LIMITS["max_bytes"] + 65_536,
    "/api/v1/naming/signs/": PLACENAME_PHOTO_MAX_BYTES + 65_536,
    "/placenames/signs/": PLACENAME_PHOTO_MAX_BYTES + 65_536,
    "/api/v1/locate/batch": LOCATE_BATCH_LIMITS["max_bytes"] + 65_536,
}
# Database statements of a public request end after this (below gunicorn's 30 s worker timeout), a
# signed-in request's after the longer one; either answers 503 with Retry-After.
PUBLIC_STATEMENT_TIMEOUT_MS = int(os.environ.get("PUBLIC_STATEMENT_TIMEOUT_MS", "10000"))
STATEMENT_TIMEOUT_MS = int(os.environ.get("STATEMENT_TIMEOUT_MS", "25000"))
# Expensive requests (exports, reports, suggested sites) running at once across every worker: by
# default half the cores, so that cheap look-ups keep the other half (bench/heavy_load.py: with 2
# slots on 2 cores locate's p95 rose 7-20x under three heavy clients, with 1 about 5x).
HEAVY_REQUESTS_AT_ONCE = int(os.environ.get("HEAVY_REQUESTS_AT_ONCE", max(1, (os.cpu_count() or 2) // 2)))
HEAVY_REQUEST_SLOT_SECONDS = 60
# Whole OGC layers kept in the shared cache (gis_portal.portal.ogc.layer_cache): an old state's
# copy expires after this (0: none kept), and a layer larger than this is read afresh each time.
OGC_LAYER_CACHE_SECONDS = int(os.environ.get("OGC_LAYER_CACHE_SECONDS", "300"))
OGC_LAYER_CACHE_MAX_BYTES = int(os.environ.get("OGC_LAYER_CACHE_MAX_BYTES", str(32 * 2**20)))

# The cache every worker and app server shares (Redis, started by scripts/setup.sh): throttles,
# the heavy-request bulkhead, tiles.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "gis_portal"),
        # A Redis that is down or hung costs a request at most this long (gis_portal.core.caching).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }
}
# Proxies in front of the service (0: clients connect directly). Throttles and lock-outs take the
# client's address from X-Forwarded-For only past this many proxies, never a client-chosen header.
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "0"))
AXES_IPWARE_PROXY_COUNT = NUM_PROXIES or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if NUM_PROXIES else ["REMOTE_ADDR"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the shared cache by every app server and written through to the primary
# (cached_db): a Redis restart or eviction (it keeps nothing on disk) signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "gis_portal.core.api.PortalAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Token first, so that an anonymous API write is told 401 with how to authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_THROTTLE_RATES": {
        "token": "10/minute",
        "survey_upload": "30/hour",
        "naming_suggest_anon": os.environ.get("THROTTLE_NAMING_SUGGEST_ANON", "30/hour"),
        "naming_suggest_user": "300/hour",
        "heavy_anon": os.environ.get("THROTTLE_HEAVY_ANON", "10/minute"),
        "heavy_user": os.environ.get("THROTTLE_HEAVY_USER", "60/minute"),
        "ogc_anon": os.environ.get("THROTTLE_OGC_ANON", "6000/minute"),
        "ogc_user": os.environ.get("THROTTLE_OGC_USER", "12000/minute"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "EXCEPTION_HANDLER": "gis_portal.core.api.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Chongqing civil-affairs GIS portal API",
    "DESCRIPTION": (
        "Standard place names, administrative divisions and boundary lines, and elder-care, funeral "
        "and community facilities of Chongqing. Geometries are GeoJSON in EPSG:4326; lengths, areas "
        "and distances are in metres. Records generated for the demo carry is_synthetic=true."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the vendored package files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Choice sets named "kind" in several apps: the coverage standard's keeps a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "CoverageStandardKindEnum": "facilities.models.CoverageStandard.Kind",
        "DivisionProposalKindEnum": "boundaries.proposal_models.DivisionProposal.Kind",
    },
}

# The basemap is optional: with no URL the map shows the region's own layers on a plain background.
# It must be a WGS84-aligned tile service (OpenStreetMap, Tianditu); GCJ-02 tiles (Amap) are offset.
BASEMAP_URL = os.environ.get("BASEMAP_URL", "")
BASEMAP_ATTRIBUTION = os.environ.get("BASEMAP_ATTRIBUTION", "")


def csp_tile_source(url: str) -> list[str]:
    """The Content-Security-Policy source of a tile URL template: its scheme and host, with the
    labels up to a ``{s}`` subdomain placeholder as a wildcard (``https://t{s}.tianditu.gov.cn/...``
    gives ``https://*.tianditu.gov.cn``); nothing for an empty URL."""
    if not url:
        return []
    parts = urlsplit(url)
    if not parts.hostname:
        raise ImproperlyConfigured(f"BASEMAP_URL has no host: {url!r}")
    labels = parts.netloc.rsplit("@", 1)[-1].split(".")
    placeholders = [i for i, label in enumerate(labels) if "{" in label]
    if placeholders:
        labels = ["*", *labels[placeholders[-1] + 1 :]]
    if len(labels) < 2 or any("{" in label or "}" in label for label in labels):
        raise ImproperlyConfigured(f"BASEMAP_URL's host cannot be written as a CSP source: {url!r}")
    host = ".".join(labels)
    return [f"{parts.scheme}://{host}" if parts.scheme else host]


# Content-Security-Policy (django-csp) on every response. Scripts come from this origin only: no inline
# script, no eval; the pages pass data as JSON (json_script) and initialise their maps in static files.
# The one nonce is django-leaflet's map widget in the admin (its inline set-up script carries
# request.csp_nonce); django-csp puts 'nonce-…' in the header only on responses that used it.
# Styles from this origin only as well: the pages' scripts style elements through the CSSOM
# (element.style), which a policy does not restrict; no style attribute or <style> in markup.
# Images: this origin, data: URIs (Leaflet's and Swagger UI's icons) and the basemap's tile host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *csp_tile_source(BASEMAP_URL)],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (30.05, 107.87),
    "DEFAULT_ZOOM": 7,
    "MIN_ZOOM": 5,
    "MAX_ZOOM": 18,
    "SPATIAL_EXTENT": REGION_BOUNDS,
    "TILES": [(_("Basemap"), BASEMAP_URL, {"attribution": BASEMAP_ATTRIBUTION})] if BASEMAP_URL else [],
    "ATTRIBUTION_PREFIX": "Chongqing civil-affairs GIS portal",
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
}

# Vector tiles (gis_portal.portal.tiles): seconds a tile is cached in the process and by browsers/CDNs.
TILE_CACHE_SECONDS = int(os.environ.get("TILE_CACHE_SECONDS", "300"))

# Seed of the generated (synthetic) data: same seed, same output.
SYNTHETIC_SEED = int(os.environ.get("SYNTHETIC_SEED", "20190101"))

# One JSON object a line on standard error (gis_portal.core.logs), one line a request; LOG_FORMAT=text
# for plain lines at a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "gis_portal.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": os.environ.get("LOG_FORMAT", "json")}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The request line (gis_portal.requests) says it; Django's own 4xx warnings would say it twice.
    "loggers": {"django.request": {"level": "ERROR"}},
}

# The production profile: PORTAL_HTTPS=1 behind a TLS-terminating proxy that sets
# X-Forwarded-Proto. HSTS, redirect to HTTPS (health probes excepted), Secure cookies, shorter
# sessions. `manage.py check --deploy --fail-level WARNING` is clean with it (a test).
PORTAL_HTTPS = env_bool("PORTAL_HTTPS", False)
if PORTAL_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))  # a working day

# GDAL < 3.9 cannot block file/network access while parsing spatial references. The service never
# passes a user's SRS text to GDAL: CRSs are taken only as EPSG codes from a fixed allow-list.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
