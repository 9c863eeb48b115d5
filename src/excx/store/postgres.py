"""PostgreSQL: the store of a shared server and of survey collection."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping

import ibis
import pyarrow as pa
import pyarrow.csv as csv

from excx.errors import StoreError
from excx.store._base import Store

# Rows sent per COPY write; bounds the memory a large import needs.
_COPY_BATCH = 50_000


class PostgresStore(Store):
    """A store in a PostgreSQL database, reached with a ``postgresql://`` URL."""

    backend = "postgres"
    # One store_generation row per server connection, so that concurrent
    # writers rarely wait for each other's row lock; readers sum the rows.
    _slot_sql = "pg_backend_pid() % 16"

    def __init__(self, url: str) -> None:
        try:
            con = ibis.connect(url.replace("postgres://", "postgresql://", 1))
        except ModuleNotFoundError as exc:
            raise StoreError(
                "PostgreSQL support is an extra: pip install 'excx[postgres]'"
            ) from exc
        except Exception as exc:
            raise StoreError(f"cannot connect to {_redact(url)}: {exc}") from exc
        super().__init__(_redact(url), con)

    @property
    def raw(self):
        """The underlying ``psycopg`` connection."""
        return self.con.con

    @contextlib.contextmanager
    def exclusive(self, key: int) -> Iterator[None]:
        with self.raw.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            with self.raw.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _atomic(self):
        return self.raw.transaction()

    def _changed_rows(self, sql: str) -> int:
        return self.raw.execute(sql).rowcount

    def _write_atomic(self, rows: Mapping[str, pa.Table]) -> None:
        with self.raw.cursor() as cursor:
            for name, data in rows.items():
                columns = ", ".join(f'"{c}"' for c in data.column_names)
                sql = f'COPY "{name}" ({columns}) FROM STDIN WITH (FORMAT csv)'
                with cursor.copy(sql) as copy:
                    for batch in data.to_batches(_COPY_BATCH):
                        copy.write(_as_csv(batch))


def _as_csv(batch: pa.RecordBatch) -> bytes:
    """One batch as CSV for COPY: empty strings quoted, nulls left empty."""
    buffer = io.BytesIO()
    csv.write_csv(batch, buffer, csv.WriteOptions(include_header=False))
    return buffer.getvalue()


def _redact(url: str) -> str:
    """Hide the password in a URL shown in messages and logs."""
    if "@" not in url or ":" not in url.split("://", 1)[1].split("@", 1)[0]:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.split("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
