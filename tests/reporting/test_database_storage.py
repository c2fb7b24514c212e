"""Generated files live in PostgreSQL by default (reporting/storage.py): any web process serves
what any worker built, and each file is scoped like its job, by row-level security."""

import os
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from registers import access
from reporting.models import JobKind, ReportJob, StoredFile
from reporting.storage import DatabaseStorage
from tests.reporting.conftest import CENSUS, build_return, run

pytestmark = pytest.mark.django_db


def test_the_service_keeps_generated_files_in_the_database_by_default():
    from django.core.files.storage import storages

    assert isinstance(storages["default"], DatabaseStorage)


def test_a_built_file_is_stored_with_its_jobs_authority_and_downloads(
    client, lead, known_register, authority, census
):
    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority, user=lead)
    stored = StoredFile.objects.get(name=job.output.name)
    assert (stored.authority_id, stored.size) == (authority.pk, len(bytes(stored.content)))
    client.force_login(lead)
    response = client.get(f"/reporting/jobs/{job.pk}/download/")
    assert b"".join(response.streaming_content) == bytes(stored.content)


def test_another_authoritys_scope_sees_no_stored_file_and_its_download_is_404(
    client, lead, other_lead, known_register, authority, census
):
    build_return(authority)
    job = run(JobKind.AUTHORITY_CSV, authority=authority, user=lead)
    with access.using_scope(access.scope_for(other_lead)):
        assert not StoredFile.objects.exists()
        assert not default_storage.exists(job.output.name)
        with pytest.raises(FileNotFoundError):
            default_storage.open(job.output.name)
    with access.using_scope(access.scope_for(lead)):
        assert default_storage.exists(job.output.name)
    client.force_login(other_lead)
    assert client.get(f"/reporting/jobs/{job.pk}/download/").status_code == 404


def test_a_national_file_has_no_authority_and_only_the_national_scope_sees_it(lead, analyst):
    job = ReportJob.objects.create(kind=JobKind.NATIONAL_CSV, census_date=CENSUS)
    with access.using_scope(access.scope_for(analyst)):
        name = default_storage.save(f"reports/{job.pk}/national.csv", ContentFile(b"a,b\n1,2\n"))
        assert default_storage.open(name).read() == b"a,b\n1,2\n"
    assert StoredFile.objects.get(name=name).authority_id is None
    with access.using_scope(access.scope_for(lead)):
        assert not default_storage.exists(name)


def test_the_storage_refuses_a_file_that_belongs_to_no_job_in_scope(lead, other_lead, authority):
    job = ReportJob.objects.create(
        kind=JobKind.AUTHORITY_CSV, authority=authority, census_date=CENSUS
    )
    with access.using_scope(access.scope_for(other_lead)):
        with pytest.raises(ValueError, match="No report job in scope"):
            default_storage.save(f"reports/{job.pk}/x.csv", ContentFile(b"x"))
        with pytest.raises(ValueError, match="report files only"):
            default_storage.save("anywhere/x.csv", ContentFile(b"x"))
    assert not StoredFile.objects.exists()


def test_listing_and_deleting_work_through_the_storage_api(authority):
    job = ReportJob.objects.create(
        kind=JobKind.AUTHORITY_CSV, authority=authority, census_date=CENSUS
    )
    first = default_storage.save(f"reports/{job.pk}/a.csv", ContentFile(b"1"))
    default_storage.save(f"reports/{job.pk}/b.csv", ContentFile(b"22"))
    assert default_storage.listdir("reports") == ([str(job.pk)], [])
    assert default_storage.listdir(f"reports/{job.pk}") == ([], ["a.csv", "b.csv"])
    assert default_storage.size(f"reports/{job.pk}/b.csv") == 2
    # A name taken gets another, as on disk: nothing is overwritten by accident.
    again = default_storage.save(first, ContentFile(b"3"))
    assert again != first and default_storage.open(first).read() == b"1"
    default_storage.delete(first)
    assert not default_storage.exists(first)


def _storage_under(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import django; django.setup()\n"
        'from django.core.files.storage import storages\ns = storages["default"]\n'
        "print(type(s).__module__, type(s).__name__, s.bucket_name, s.endpoint_url, s.location,"
        " s.default_acl, s.file_overwrite)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "dsr.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_s3_setting_stores_files_in_object_storage_and_an_unknown_one_is_refused():
    # S3-compatible object storage through django-storages, chosen by a setting (nothing is
    # sent: the client connects on first use).
    run = _storage_under(
        {
            "DSR_FILE_STORAGE": "s3",
            "DSR_S3_BUCKET": "dsr-files",
            "DSR_S3_ENDPOINT_URL": "https://objects.example.org",
            "DSR_S3_PREFIX": "returns",
        }
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [
        "storages.backends.s3",
        "S3Storage",
        "dsr-files",
        "https://objects.example.org",
        "returns",
        "private",
        "False",
    ]
    refused = _storage_under({"DSR_FILE_STORAGE": "floppy"})
    assert refused.returncode != 0 and "DSR_FILE_STORAGE must be one of" in refused.stderr
