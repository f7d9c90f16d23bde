from django.urls import path

from portraits import views
from portraits.payments import views as payment_views
from portraits.payments.webhooks import stripe_webhook

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
    path("pricing/", payment_views.pricing_page, name="pricing"),
    path("jobs/<uuid:job_id>/buy/", payment_views.buy, name="buy"),
    path("purchases/<uuid:purchase_id>/return/", payment_views.purchase_return, name="purchase_return"),
    path("payments/stripe/webhook/", stripe_webhook, name="stripe_webhook"),
]
