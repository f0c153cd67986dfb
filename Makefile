# The two entry points. Both are idempotent and install what is missing.
.PHONY: run test test-pure lint bench setup

# The basemap `make run` shows unless BASEMAP_URL is set; tests run without one (no network there),
# and the map stays readable without it. 天地图: BASEMAP_URL='https://t{s}.tianditu.gov.cn/vec_w/wmts?...&tk=KEY'.
run: export BASEMAP_URL ?= https://tile.openstreetmap.org/{z}/{x}/{y}.png
run: export BASEMAP_ATTRIBUTION ?= © OpenStreetMap contributors
run:
	bash scripts/setup.sh run
	.venv/bin/python manage.py collectstatic --noinput -v 0
	bash scripts/run.sh  # gunicorn and one job worker beside it

test:
	bash scripts/setup.sh test
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	.venv/bin/pytest -n auto --maxprocesses 4 --durations 15  # a worker a core, each with its own test database

# The pure-logic tests (name rules, file parsing, siting, CRS, division changes): no database, seconds.
test-pure:
	DATABASE_URL=postgis://nobody@127.0.0.1:1/none SECRET_KEY=pure-tests .venv/bin/pytest tests/pure -q

lint:
	.venv/bin/ruff check .
	.venv/bin/lint-imports

bench:
	bash scripts/setup.sh run
	.venv/bin/python bench/locate.py
	.venv/bin/python bench/upload.py
	.venv/bin/python bench/coverage.py
	.venv/bin/python bench/lines.py
	.venv/bin/python bench/tiles.py
	.venv/bin/python bench/layers.py
	.venv/bin/python bench/placename_answers.py
	.venv/bin/python bench/heavy_load.py
	.venv/bin/python bench/load.py
