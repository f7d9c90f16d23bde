from django.urls import path

from portraits import views

app_name = "portraits"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("try/", views.upload, name="upload"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
    path("jobs/<uuid:job_id>/portraits/<int:number>/<str:kind>/", views.portrait_download, name="portrait"),
    path("jobs/<uuid:job_id>/portraits.zip", views.download_all, name="download_all"),
    path("jobs/<uuid:job_id>/email/", views.email_results, name="email_results"),
    path("jobs/<uuid:job_id>/delete/", views.delete_job, name="delete"),
    path("jobs/<uuid:job_id>/withdraw/", views.withdraw_consent, name="withdraw"),
    path("results/<str:signed>/", views.open_results, name="open_results"),
    path("files/<str:signed>/", views.portrait_file, name="file"),
]
