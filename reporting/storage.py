"""Generated files (returns, PDFs, exports) in PostgreSQL, through Django's storage API.

The default storage of the service (`DSR_FILE_STORAGE=database`): a file written by any worker is
read by any web process, with no shared disk and nothing to run beside the database, and backups
of the database hold the files too. Files here are report outputs only, named
`reports/<job id>/<file name>`: each row takes its job's authority, so the row-level security
that scopes the job scopes its file. For object storage set `DSR_FILE_STORAGE=s3`
(django-storages; docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import IO

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.db import transaction
from django.utils.deconstruct import deconstructible

_REPORT_FILE = re.compile(r"^reports/(?P<job>\d+)/[^/]+$")


@deconstructible
class DatabaseStorage(Storage):
    def _files(self):
        from .models import StoredFile

        return StoredFile.objects

    def _authority_of(self, name: str) -> int | None:
        from .models import ReportJob

        match = _REPORT_FILE.match(name)
        if match is None:
            raise ValueError(f"The database storage keeps report files only, not {name!r}.")
        # The job is read in the caller's scope: a file can only be written beside a job the
        # caller may see, and takes that job's authority.
        job = ReportJob.objects.filter(pk=int(match["job"])).values_list("authority_id").first()
        if job is None:
            raise ValueError(f"No report job in scope for {name!r}.")
        return job[0]

    def _save(self, name: str, content: File) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        with transaction.atomic():
            self._files().create(
                name=name, content=data, size=len(data), authority_id=self._authority_of(name)
            )
        return name

    def _open(self, name: str, mode: str = "rb") -> IO:
        if "w" in mode or "a" in mode:
            raise ValueError("Database-stored files are written with save(), not open().")
        row = self._files().filter(name=name).values_list("content").first()
        if row is None:
            raise FileNotFoundError(name)
        return ContentFile(bytes(row[0]), name=name)

    def exists(self, name: str) -> bool:
        return self._files().filter(name=name).exists()

    def delete(self, name: str) -> None:
        self._files().filter(name=name).delete()

    def size(self, name: str) -> int:
        row = self._files().filter(name=name).values_list("size").first()
        if row is None:
            raise FileNotFoundError(name)
        return row[0]

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = path.rstrip("/") + "/" if path else ""
        directories: set[str] = set()
        files: list[str] = []
        for name in self._files().filter(name__startswith=prefix).values_list("name", flat=True):
            head, _, tail = name[len(prefix) :].partition("/")
            (directories.add(head) if tail else files.append(head))
        return sorted(directories), sorted(files)

    def get_created_time(self, name: str) -> dt.datetime:
        row = self._files().filter(name=name).values_list("created_at").first()
        if row is None:
            raise FileNotFoundError(name)
        return row[0]

    get_modified_time = get_created_time

    def url(self, name: str) -> str:
        # Files are served only by the download view, which checks the user again.
        raise NotImplementedError("Report files have no public URL; use the job's download.")

    def ready(self) -> bool:
        """Readiness: the table answers (nothing is written: a probe row would need a job)."""
        self._files().filter(pk=0).exists()
        return True
