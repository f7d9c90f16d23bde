"""Paid full-resolution downloads: prices, Stripe-hosted Checkout, verified webhooks.

Payment never touches the photo: Stripe receives our purchase id, an amount and what the buyer
types into Checkout. With no Stripe keys configured everything is free (the embedded default).
"""
