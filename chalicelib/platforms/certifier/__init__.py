"""Certifier: signed webhooks for credentials and their interactions (views, shares), awarding."""
