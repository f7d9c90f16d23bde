"""Only the compliance API, so the schema check reports warnings from our views alone."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("compliance.api"))]
