"""Compliance REST endpoints, included under /api/v1/ (see DESIGN.md "REST API v1")."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import services
from compliance.models import DataSubjectRequest, DsarType, Jurisdiction
from proportrait.api import ERROR_SCHEMA, ApiError
from proportrait.http import client_ip

ErrorSerializer = ERROR_SCHEMA


class ConsentDocumentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    version = serializers.IntegerField()
    sha256 = serializers.CharField()
    title = serializers.CharField()
    text = serializers.CharField()


class DsarCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    request_type = serializers.ChoiceField(choices=DsarType.choices)
    details = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    job_reference = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    jurisdiction = serializers.ChoiceField(
        choices=Jurisdiction.choices, required=False, default=Jurisdiction.UNKNOWN
    )


class DsarCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField()


class DsarVerifySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class DsarStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    hold = serializers.CharField(
        help_text="Empty, or why the request waits: account_sign_in (the account holder confirms by "
        "signing in, link emailed to the account's address) or sole_owner (staff review)."
    )


# A dict of fields (not a Serializer class) because a field called "data" would hide Serializer.data.
RETENTION_ENTRY_FIELDS = {
    "key": serializers.CharField(),
    "data": serializers.CharField(),
    "limit": inline_serializer(
        name="RetentionLimit",
        fields={"value": serializers.IntegerField(), "unit": serializers.CharField()},
        allow_null=True,
    ),
    "retention": serializers.CharField(),
    "destruction": serializers.CharField(),
    "enforced_by": serializers.CharField(),
}


class RetentionPolicySerializer(serializers.Serializer):
    entries = inline_serializer(name="RetentionEntry", fields=RETENTION_ENTRY_FIELDS, many=True)
    original_photo_minutes = serializers.IntegerField()
    anonymous_results_hours = serializers.IntegerField()
    account_results_days = serializers.IntegerField()
    dsar_code_minutes = serializers.IntegerField()
    dsar_unverified_days = serializers.IntegerField()
    dsar_record_days = serializers.IntegerField()
    data_export_hours = serializers.IntegerField()
    audit_log_days = serializers.IntegerField()
    consent_evidence_days = serializers.IntegerField()
    erased_job_record_days = serializers.IntegerField()
    biometric_outer_limit = serializers.CharField()


def _api_error(error: services.DsarError) -> ApiError:
    return ApiError(error.code, error.message, error.http_status)


def _get_request(request_id: Any) -> DataSubjectRequest:
    found = DataSubjectRequest.objects.filter(pk=request_id).first()
    if found is None:
        raise ApiError("not_found", "No such request.", status.HTTP_404_NOT_FOUND)
    return found


class CurrentConsentView(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Current consent documents",
        responses=ConsentDocumentSerializer(many=True),
        tags=["compliance"],
    )
    def get(self, request: Request) -> Response:
        return Response(ConsentDocumentSerializer(services.current_documents(), many=True).data)


class DsarCreateView(APIView):
    # Public, no account: authentication would only add CSRF checks for people who are logged in.
    authentication_classes: list = []

    @extend_schema(
        summary="Submit a data subject request",
        description="Emails a verification code to the address given. rectification and objection "
        "are recorded for a person to handle.",
        request=DsarCreateSerializer,
        responses={202: DsarCreatedSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
        tags=["compliance"],
    )
    def post(self, request: Request) -> Response:
        serializer = DsarCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            created = services.create_request(**serializer.validated_data, ip=client_ip(request))
        except services.DsarError as error:
            raise _api_error(error) from error
        return Response(
            {"id": str(created.id), "status": created.status, "due_at": created.due_at.isoformat()},
            status=status.HTTP_202_ACCEPTED,
        )


class DsarVerifyView(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Verify a data subject request with the emailed code",
        request=DsarVerifySerializer,
        responses={
            200: DsarStatusSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="invalid_code, code_expired, too_many_attempts, already_verified"
            ),
            404: ErrorSerializer,
            429: OpenApiResponse(
                ErrorSerializer,
                description="rate_limited: too many wrong codes for this email or network today",
            ),
        },
        tags=["compliance"],
    )
    def post(self, request: Request, request_id: str) -> Response:
        dsar = _get_request(request_id)
        serializer = DsarVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            dsar = services.verify_request(dsar.pk, serializer.validated_data["code"], ip=client_ip(request))
        except services.DsarError as error:
            raise _api_error(error) from error
        return Response({"status": dsar.status, "hold": dsar.hold})


class DsarResendView(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="Email a new verification code",
        request=None,
        responses={
            202: DsarStatusSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            429: ErrorSerializer,
        },
        tags=["compliance"],
    )
    def post(self, request: Request, request_id: str) -> Response:
        dsar = _get_request(request_id)
        try:
            dsar = services.resend_code(dsar.pk, ip=client_ip(request))
        except services.DsarError as error:
            raise _api_error(error) from error
        return Response({"status": dsar.status, "hold": dsar.hold}, status=status.HTTP_202_ACCEPTED)


class RetentionPolicyView(APIView):
    authentication_classes: list = []

    @extend_schema(
        summary="The retention schedule the purge jobs enforce",
        responses=RetentionPolicySerializer,
        tags=["compliance"],
    )
    def get(self, request: Request) -> Response:
        return Response(services.retention_schedule())


urlpatterns = [
    path("consent/current/", CurrentConsentView.as_view(), name="consent-current"),
    path("dsar/", DsarCreateView.as_view(), name="dsar-create"),
    path("dsar/<uuid:request_id>/verify/", DsarVerifyView.as_view(), name="dsar-verify"),
    path("dsar/<uuid:request_id>/resend/", DsarResendView.as_view(), name="dsar-resend"),
    path("retention-policy/", RetentionPolicyView.as_view(), name="retention-policy"),
]
