from django.urls import path

from portraits import views
from portraits.payments import views as payment_views
from portraits.payments.webhooks import stripe_webhook

app_name = "portraits"
urlpatterns = [
    path("", views.landing, name="landing"),
    path("try/", views.upload, name="upload"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
    path("jobs/<uuid:job_id>/delete/", views.delete_job, name="delete"),
    path("jobs/<uuid:job_id>/withdraw/", views.withdraw_consent, name="withdraw"),
    path("files/<str:signed>/", views.portrait_file, name="file"),
    path("pricing/", payment_views.pricing_page, name="pricing"),
    path("jobs/<uuid:job_id>/buy/", payment_views.buy, name="buy"),
    path("purchases/<uuid:purchase_id>/return/", payment_views.purchase_return, name="purchase_return"),
    path("payments/stripe/webhook/", stripe_webhook, name="stripe_webhook"),
]
