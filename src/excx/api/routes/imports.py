"""``POST /api/v1/imports/{target}``: a file through ``excx.ingest.import_file``."""

from __future__ import annotations

import enum
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from excx.api.deps import StoreDep, require
from excx.errors import ImportValidationError, InputError
from excx.ingest import import_file

router = APIRouter(tags=["imports"])

_SUFFIXES = (".csv", ".xlsx", ".parquet")


class Target(enum.StrEnum):
    units = "units"
    employee_responses = "employee-responses"
    customer_responses = "customer-responses"
    outcomes = "outcomes"


@router.post(
    "/imports/{target}",
    summary="Validate a file and add its rows, all or nothing, once",
    dependencies=[require("admin", "analyst")],
)
def import_upload(
    target: Target,
    file: Annotated[UploadFile, File(description="A .csv, .xlsx or .parquet file")],
    store: StoreDep,
    profile: Annotated[str, Form()] = "generic",
    dry_run: Annotated[bool, Form()] = False,
) -> dict:
    """The import report; 422 with ``problems`` (row, column, value, rule) when
    the file fails validation (nothing is written then)."""
    name = Path(file.filename or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(
            f"file {name!r} has extension {suffix or 'none'!r}; accepted: "
            f"{', '.join(_SUFFIXES)}"
        )
    with tempfile.TemporaryDirectory(prefix="excx-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        try:
            report = import_file(
                store, target.value, path, profile=profile, dry_run=dry_run
            )
        except ImportValidationError as exc:
            exc.public_name = name
            raise
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), name)) from None
    return {
        "file": name,
        "target": report.target,
        "rows_read": report.rows_read,
        "rows_written": report.rows_written,
        "items_written": report.items_written,
        "skipped_as_already_imported": report.skipped_as_already_imported,
        "dry_run": report.dry_run,
    }
