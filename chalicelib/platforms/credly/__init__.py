"""Credly: webhooks (thin notifications, re-fetched from the API), badge lists, awarding."""
