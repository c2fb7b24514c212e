"""The request transaction: a request that ends in a server error leaves nothing behind."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse

from registers import access
from registers.middleware import TenantScopeMiddleware
from registers.models import Locality

pytestmark = pytest.mark.django_db


def test_a_request_answering_500_rolls_back_its_writes_and_scope(rf, authority):
    def failing_view(request):
        with access.using_scope(access.SYSTEM):
            Locality.objects.create(authority=authority, name="Half saved")
        return HttpResponse("boom", status=500)

    request = rf.get("/")
    request.user = AnonymousUser()
    response = TenantScopeMiddleware(failing_view)(request)
    assert response.status_code == 500
    assert not Locality.objects.filter(name="Half saved").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('dsr.scope', true)")
        assert cursor.fetchone() == ("dsr_system", "")  # as the test arranged it


def test_a_successful_request_keeps_its_writes(rf, authority):
    def view(request):
        with access.using_scope(access.SYSTEM):
            Locality.objects.create(authority=authority, name="Saved")
        return HttpResponse("ok")

    request = rf.get("/")
    request.user = AnonymousUser()
    assert TenantScopeMiddleware(view)(request).status_code == 200
    assert Locality.objects.filter(name="Saved").exists()
