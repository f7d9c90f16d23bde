"""REST API of accounts and teams, under /api/v1/.

- `account/...`: the signed-in person (session).
- `orgs/{slug}/...`: an organisation, through its API token (`Authorization: Token <value>`) or a
  signed-in owner/admin who has passed two-factor authentication. Anything else is a 404 for
  an organisation that is not the caller's, so ids and slugs of others are never confirmed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, teams
from accounts.authentication import OrganisationTokenAuthentication
from accounts.models import Membership, Organisation, OrganisationApiToken, Role
from proportrait.api import ERROR_SCHEMA, ApiError

ERROR = ERROR_SCHEMA


# --- Serializers


class OrganisationRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    email_verified = serializers.BooleanField()
    two_factor = serializers.BooleanField()
    organisations = OrganisationRefSerializer(many=True)


class AccountJobSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    portraits = serializers.IntegerField()
    status_url = serializers.CharField()


class ClaimSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    token = serializers.CharField(max_length=100)


class MemberSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="m-<membership id> for members, i-<invitation id> for invitations")
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["invited", "expired", "joined", "consented", "generated", "submitted", "redo", "approved"]
    )


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(
        choices=[Role.MEMBER.value, Role.ADMIN.value],
        default=Role.MEMBER.value,
        help_text="An organisation API token may invite members only; admins invite admins.",
    )


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    expires_at = serializers.DateTimeField()


class HeadshotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    file = serializers.CharField()
    approved_at = serializers.DateTimeField()
    download_url = serializers.CharField(help_text="Short-lived signed link to the full-resolution file.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()


# --- Account


class AccountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AccountSerializer, 403: ERROR}, tags=["account"])
    def get(self, request: Request) -> Response:
        user = request.user
        assert user.is_authenticated  # IsAuthenticated lets only a signed-in person through
        memberships = Membership.objects.filter(user=user).select_related("organisation")
        return Response(
            {
                "id": user.pk,
                "email": user.email,
                "email_verified": user.email_verified_at is not None,
                "two_factor": services.has_two_factor(user),
                "organisations": [
                    {"slug": m.organisation.slug, "name": m.organisation.name, "role": m.role}
                    for m in memberships
                ],
            }
        )


class AccountJobsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AccountJobSerializer(many=True), 403: ERROR}, tags=["account"])
    def get(self, request: Request) -> Response:
        from django.urls import reverse

        jobs = services.personal_jobs(request.user)  # type: ignore[arg-type]
        return Response(
            [
                {
                    "id": str(job.id),
                    "status": job.status,
                    "created_at": job.created_at,
                    "expires_at": job.expires_at,
                    "portraits": len(job.portraits.all()),
                    "status_url": reverse("portraits-api:job", args=[job.id]),
                }
                for job in jobs
            ]
        )


class ClaimView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ClaimSerializer,
        responses={200: AccountJobSerializer, 404: OpenApiResponse(ERROR, description="No claimable job")},
        tags=["account"],
        summary="Move an anonymous job's results into the account (job id + token)",
    )
    def post(self, request: Request) -> Response:
        from django.urls import reverse

        from portraits.access import job_for_token

        serializer = ClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = job_for_token(serializer.validated_data["job_id"], serializer.validated_data["token"])
        if job is None or not services.claim_job(job, request.user):  # type: ignore[arg-type]
            raise ApiError("not_found", "No claimable job with that id and token.", status.HTTP_404_NOT_FOUND)
        job.refresh_from_db()
        return Response(
            {
                "id": str(job.id),
                "status": job.status,
                "created_at": job.created_at,
                "expires_at": job.expires_at,
                "portraits": job.portraits.count(),
                "status_url": reverse("portraits-api:job", args=[job.id]),
            }
        )


# --- Organisations


class OrganisationApiView(APIView):
    authentication_classes = [OrganisationTokenAuthentication, SessionAuthentication]

    def organisation(self, request: Request, slug: str) -> Organisation:
        if isinstance(request.auth, OrganisationApiToken):
            if request.auth.organisation.slug != slug:
                raise ApiError("not_found", "Not found.", status.HTTP_404_NOT_FOUND)
            return request.auth.organisation
        user = request.user
        if not user.is_authenticated:
            raise ApiError(
                "not_authenticated", "Send an organisation API token.", status.HTTP_401_UNAUTHORIZED
            )
        membership = (
            Membership.objects.select_related("organisation")
            .filter(user=user, organisation__slug=slug)
            .first()
        )
        if membership is None or not membership.is_admin:
            raise ApiError("not_found", "Not found.", status.HTTP_404_NOT_FOUND)
        if not user.is_verified():  # type: ignore[attr-defined]  # added by django_otp's middleware
            raise ApiError(
                "two_factor_required",
                "Log in with two-factor authentication first.",
                status.HTTP_403_FORBIDDEN,
            )
        return membership.organisation

    def actor(self, request: Request) -> str:
        if isinstance(request.auth, OrganisationApiToken):
            return f"api_token:{request.auth.pk}"
        return services.user_actor(request.user)

    def inviter(self, request: Request) -> Any:
        return None if isinstance(request.auth, OrganisationApiToken) else request.user


class MembersView(OrganisationApiView):
    @extend_schema(
        responses={200: MemberSerializer(many=True), 401: ERROR, 404: ERROR}, tags=["organisations"]
    )
    def get(self, request: Request, slug: str) -> Response:
        organisation = self.organisation(request, slug)
        rows = []
        for row in teams.dashboard_rows(organisation):
            if row.membership is not None:
                user = row.membership.user
                rows.append(
                    {
                        "id": f"m-{row.membership.pk}",
                        "email": user.email,
                        "name": user.get_full_name(),
                        "role": row.membership.role,
                        "status": row.status,
                    }
                )
            elif row.invitation is not None:
                rows.append(
                    {
                        "id": f"i-{row.invitation.pk}",
                        "email": row.invitation.email,
                        "name": "",
                        "role": row.invitation.role,
                        "status": row.status,
                    }
                )
        return Response(rows)


class InvitationsView(OrganisationApiView):
    @extend_schema(
        request=InviteSerializer,
        responses={201: InvitationSerializer, 400: ERROR, 401: ERROR, 404: ERROR},
        tags=["organisations"],
        summary="Invite one person by email (they get a single-use link)",
    )
    def post(self, request: Request, slug: str) -> Response:
        organisation = self.organisation(request, slug)
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A token is a shared secret held by another system, without a second factor: it must not
        # be able to add people who could manage the organisation (and create more tokens).
        if (
            isinstance(request.auth, OrganisationApiToken)
            and serializer.validated_data["role"] != Role.MEMBER
        ):
            raise ApiError(
                "role_not_allowed",
                "An API token can invite members only. Admins are invited from the organisation's page.",
            )
        try:
            invitation = teams.invite_member(
                organisation,
                email=serializer.validated_data["email"],
                role=serializer.validated_data["role"],
                invited_by=self.inviter(request),
                actor=self.actor(request),
            )
        except teams.TeamError as error:
            raise ApiError("invitation_refused", str(error)) from None
        except DjangoValidationError:
            raise ApiError("invalid_request", "Not a valid email address.") from None
        return Response(
            {
                "id": invitation.pk,
                "email": invitation.email,
                "role": invitation.role,
                "expires_at": invitation.expires_at,
            },
            status=status.HTTP_201_CREATED,
        )


class HeadshotsView(OrganisationApiView):
    @extend_schema(
        responses={200: HeadshotSerializer(many=True), 401: ERROR, 404: ERROR}, tags=["organisations"]
    )
    def get(self, request: Request, slug: str) -> Response:
        from portraits.services import signed_portrait_url

        organisation = self.organisation(request, slug)
        rows = []
        for submission in teams.approved_submissions(organisation):
            assert submission.favourite is not None
            user = submission.membership.user
            rows.append(
                {
                    "id": submission.pk,
                    "name": user.get_full_name(),
                    "email": user.email,
                    "file": teams.headshot_filename(submission),
                    "approved_at": submission.approved_at,
                    "download_url": request.build_absolute_uri(
                        signed_portrait_url(submission.favourite, "full")
                    ),
                    "width": submission.favourite.width,
                    "height": submission.favourite.height,
                }
            )
        return Response(rows)


class HeadshotsExportView(OrganisationApiView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(description="ZIP of headshots with manifest.csv")
        },
        tags=["organisations"],
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        organisation = self.organisation(request, slug)
        data = teams.export_approved_zip(organisation, actor=self.actor(request))
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{organisation.slug}-headshots.zip"'
        return response


urlpatterns = [
    path("account/", AccountView.as_view(), name="account"),
    path("account/jobs/", AccountJobsView.as_view(), name="account-jobs"),
    path("account/claim/", ClaimView.as_view(), name="account-claim"),
    path("orgs/<slug:slug>/members/", MembersView.as_view(), name="org-members"),
    path("orgs/<slug:slug>/invitations/", InvitationsView.as_view(), name="org-invitations"),
    path("orgs/<slug:slug>/headshots/", HeadshotsView.as_view(), name="org-headshots"),
    path("orgs/<slug:slug>/headshots/export/", HeadshotsExportView.as_view(), name="org-headshots-export"),
]
