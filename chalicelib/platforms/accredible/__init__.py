"""Accredible: no webhooks; awarding (the created credential is the issued event)."""
