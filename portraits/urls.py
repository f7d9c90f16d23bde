from django.urls import path

from portraits import views

app_name = "portraits"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("try/", views.upload, name="upload"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
    path("jobs/<uuid:job_id>/delete/", views.delete_job, name="delete"),
    path("jobs/<uuid:job_id>/withdraw/", views.withdraw_consent, name="withdraw"),
    path("files/<str:signed>/", views.portrait_file, name="file"),
]
