"""Shared fixtures. Tests never reach a hosted model: requests are blocked for the session.

`db` is a SQLite file; a test marked `both_stores` runs twice, on SQLite and on the PostgreSQL
server of AGENTKIT_TEST_POSTGRES_URL (each run in a fresh schema, dropped afterwards). Without
that variable the PostgreSQL variant skips and says why.
"""

from __future__ import annotations

import os

os.environ["AGENTKIT_ALLOW_MODEL_REQUESTS"] = "0"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

POSTGRES_ENV = "AGENTKIT_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    uses_db = {"db", "new_db"} & set(metafunc.fixturenames)
    if metafunc.definition.get_closest_marker("both_stores") and uses_db:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database family of this test: 'sqlite', or 'postgresql' for a `both_stores` test."""
    name = getattr(request, "param", "sqlite")
    if name == "postgresql" and not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} (.ci/run starts one)")
    return name


def _schema_url(url: str, schema: str) -> str:
    """`url` with `schema` first on PostgreSQL's search path: to agentkit, a new database."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture
def new_db(backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases of this test's family: SQLite files, or PostgreSQL schemas."""
    schemas: list[str] = []
    count = 0

    def make() -> str:
        nonlocal count
        count += 1
        if backend == "sqlite":
            return str(tmp_path / ("runs.db" if count == 1 else f"runs-{count}.db"))
        schema = f"t_{uuid.uuid4().hex[:12]}"
        _admin(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return _schema_url(os.environ[POSTGRES_ENV], schema)

    yield make
    for schema in schemas:
        _admin(f"DROP SCHEMA {schema} CASCADE")


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(os.environ[POSTGRES_ENV], autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def db(new_db: Callable[[], str]) -> str:
    return new_db()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path
