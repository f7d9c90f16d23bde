"""REST API v1 for portrait jobs (DESIGN.md "REST API v1"). Parse, authorise, call a service, respond."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.services import ConsentAct, ConsentError
from gpu_worker.errors import ErrorCode, InputError
from gpu_worker.framing import size_note
from gpu_worker.styles import BUILTIN_STYLES
from portraits import services
from portraits.access import job_for_request
from portraits.models import JobStatus, PortraitJob
from portraits.payments.services import full_resolution_unlocked
from proportrait.api import ERROR_SCHEMA, error_response
from proportrait.http import client_ip
from proportrait.outage import ServiceUnavailable, outage_answer


class StyleSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()


class StyleListView(APIView):
    @extend_schema(responses=StyleSerializer(many=True), summary="Built-in portrait styles")
    def get(self, request: Request) -> Response:
        data = [
            {"slug": s.slug, "name": s.name, "description": s.description} for s in BUILTIN_STYLES.values()
        ]
        return Response(data)


class JobCreateSerializer(serializers.Serializer):
    photo = serializers.FileField(help_text="JPEG, PNG, WebP or HEIC; one person, face visible.")
    # The metaclass moves declared fields off the class, so this never shadows Field.style.
    style = serializers.SlugField()  # type: ignore[assignment]
    consent = serializers.BooleanField(help_text="Must be true: explicit biometric consent.")
    consent_version = serializers.IntegerField(help_text="Version of the biometric notice shown.")
    signature = serializers.CharField(max_length=200, help_text="Typed full name as e-signature.")


class JobCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    token = serializers.CharField(help_text="Shown once. Send as X-Job-Token to read or delete the job.")
    status = serializers.CharField()
    status_url = serializers.CharField()


class PortraitOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    preview_url = serializers.CharField()
    download_url = serializers.CharField(
        allow_null=True, help_text="Null while payments are on and full resolution is not bought."
    )
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class JobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=[choice.value for choice in JobStatus])
    progress = serializers.IntegerField()
    error = JobErrorSerializer(allow_null=True)
    original_deleted_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    portraits = PortraitOutSerializer(many=True)
    size_note = serializers.CharField(allow_null=True)


def _size_note(job: PortraitJob, portraits: list[dict[str, Any]]) -> str | None:
    if not portraits:
        return None
    return job_size_note(job, int(portraits[0]["width"]), int(portraits[0]["height"]))


def job_size_note(job: PortraitJob, width: int, height: int) -> str | None:
    """The plain note shown when the portraits came out smaller than the style's size, or None."""
    return size_note(width, height, services.job_style(job))


def job_payload(request: HttpRequest, job: PortraitJob) -> dict[str, Any]:
    portraits: list[dict[str, Any]] = []
    if job.status == "done":
        # With payments on, full resolution is offered only once bought (previews stay free).
        unlocked = full_resolution_unlocked(job)
        for portrait in job.portraits.all():
            portraits.append(
                {
                    "id": str(portrait.id),
                    "preview_url": request.build_absolute_uri(
                        services.signed_portrait_url(portrait, "preview")
                    ),
                    "download_url": request.build_absolute_uri(services.signed_portrait_url(portrait, "full"))
                    if unlocked
                    else None,
                    "width": portrait.width,
                    "height": portrait.height,
                }
            )
    return {
        "id": str(job.id),
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "original_deleted_at": job.original_deleted_at.isoformat() if job.original_deleted_at else None,
        "expires_at": job.expires_at.isoformat(),
        "portraits": portraits,
        # Said wherever the portraits are shown: they came out smaller than the style's size.
        "size_note": _size_note(job, portraits),
    }


class JobFieldsSerializer(serializers.Serializer):
    """The text fields of an upload, each checked for type, length and NUL bytes before any use.

    Every field is optional here so that what is missing gets its documented error code below
    (consent_required, invalid_request), in the same order for the API and the upload page.
    """

    style = serializers.SlugField(required=False, allow_blank=True, max_length=80, default="")  # type: ignore[assignment]
    consent = serializers.BooleanField(required=False, default=False)
    consent_version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    signature = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", trim_whitespace=False
    )


class InvalidFields(Exception):
    """The upload's text fields failed their serializer; `message` names each field."""

    def __init__(self, detail: Any) -> None:
        super().__init__(_flatten_field_errors(detail))
        self.detail = detail


def _flatten_field_errors(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_flatten_field_errors(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten_field_errors(item) for item in detail)
    return str(detail)


def create_job_from_request(
    request: HttpRequest, data: Any, files: Any, *, owner: Any = None
) -> services.CreatedJob:
    """Shared by the API and the upload page: the same checks, in the same order, for both."""
    if getattr(request, "upload_too_large", False):
        raise InputError(ErrorCode.FILE_TOO_LARGE)
    photo = files.get("photo")
    # An empty form field counts as not sent, so that it gets its own documented error below.
    sent = {key: data.get(key) for key in JobFieldsSerializer().fields if data.get(key) not in (None, "")}
    fields = JobFieldsSerializer(data=sent)
    if not fields.is_valid():
        raise InvalidFields(fields.errors)
    valid = fields.validated_data
    act = ConsentAct(
        checked=bool(valid["consent"]),
        signature_name=str(valid["signature"]),
        document_version=valid["consent_version"],
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    if act.document_version is None:
        # The client must say which notice it showed; consent to an unseen text is no consent.
        raise ConsentError("Send consent_version: the version of the consent notice the person was shown.")
    if photo is None:
        raise MissingPhoto()
    return services.create_job(
        photo=photo.read(),
        consent=act,
        client=services.ClientInfo(ip=act.ip, user_agent=act.user_agent),
        style_slug=str(valid["style"]),
        owner=owner,
    )


class MissingPhoto(Exception):
    pass


# What create_job_from_request may refuse with; both the API and the upload page answer these.
JOB_REJECTIONS = (
    MissingPhoto,
    InvalidFields,
    InputError,
    ConsentError,
    services.UnknownStyle,
    services.RateLimited,
    ServiceUnavailable,
)
RATE_LIMITED_MESSAGE = "Too many uploads from your connection. Please wait an hour and try again."


def file_too_large_message() -> str:
    """The oversize message names the limit (the upload page's script shows the same words)."""
    megabytes = settings.PROPORTRAIT_MAX_UPLOAD_BYTES / (1024 * 1024)
    return f"This photo is larger than {megabytes:g} MB, the most we accept. Please choose a smaller photo."


def job_rejection(error: Exception, *, missing_photo_message: str) -> tuple[str, str, int]:
    """(error code, plain message, HTTP status) for one of JOB_REJECTIONS."""
    if isinstance(error, MissingPhoto):
        return "invalid_request", missing_photo_message, 400
    if isinstance(error, InvalidFields):
        if "signature" in error.detail:
            return (
                "consent_required",
                "Please type your full name as your signature (letters only, no control characters).",
                400,
            )
        return "invalid_request", str(error), 400
    if isinstance(error, InputError):
        if error.code == ErrorCode.FILE_TOO_LARGE:
            return error.code.value, file_too_large_message(), 400
        return error.code.value, error.message, 400
    if isinstance(error, ConsentError):
        return "consent_required", str(error), 400
    if isinstance(error, services.RateLimited):
        return "rate_limited", RATE_LIMITED_MESSAGE, 429
    if isinstance(error, ServiceUnavailable):
        return outage_answer(error)
    return "invalid_request", str(error), 400  # services.UnknownStyle: a fixed message


@method_decorator(sensitive_post_parameters("signature"), name="dispatch")
class JobCreateView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    authentication_classes: list = []

    @extend_schema(
        request={"multipart/form-data": JobCreateSerializer},
        responses={201: JobCreatedSerializer, 400: ERROR_SCHEMA, 429: ERROR_SCHEMA, 503: ERROR_SCHEMA},
        summary="Upload one photo with explicit consent; starts a portrait job",
    )
    def post(self, request: Request) -> Response:
        try:
            created = create_job_from_request(request._request, request.data, request.FILES)
        except JOB_REJECTIONS as error:
            code, message, http_status = job_rejection(
                error, missing_photo_message="Please attach a photo in the 'photo' field."
            )
            response = error_response(code, message, http_status)
            if isinstance(error, ServiceUnavailable):
                response["Retry-After"] = str(error.retry_after_seconds)
            return response
        job = created.job
        return Response(
            {
                "id": str(job.id),
                "token": created.token,
                "status": job.status,
                "status_url": request.build_absolute_uri(reverse("portraits-api:job", args=[job.id])),
            },
            status=status.HTTP_201_CREATED,
        )


JOB_TOKEN = OpenApiParameter("X-Job-Token", str, OpenApiParameter.HEADER, required=False)


class JobDetailView(APIView):
    @extend_schema(
        parameters=[JOB_TOKEN], responses={200: JobSerializer, 404: ERROR_SCHEMA}, summary="Job status"
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_for_request(request._request, job_id)
        if job is None:
            return error_response("not_found", "No job with this id is visible to you.", 404)
        return Response(job_payload(request._request, job), headers={"Cache-Control": "no-store"})

    @extend_schema(
        parameters=[JOB_TOKEN],
        responses={204: OpenApiResponse(description="Erased"), 404: ERROR_SCHEMA},
        summary="Erase the job's portraits, data and keys now",
    )
    def delete(self, request: Request, job_id: str) -> Response:
        job = job_for_request(request._request, job_id)
        if job is None:
            return error_response("not_found", "No job with this id is visible to you.", 404)
        actor = f"user:{request.user.pk}" if request.user.is_authenticated else "job_holder"
        services.erase_job(job, reason="holder_request", actor=actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


app_name = "portraits-api"
urlpatterns = [
    path("styles/", StyleListView.as_view(), name="styles"),
    path("jobs/", JobCreateView.as_view(), name="jobs"),
    path("jobs/<str:job_id>/", JobDetailView.as_view(), name="job"),
]
