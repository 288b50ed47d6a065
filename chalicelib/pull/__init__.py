"""What platforms never push: backfill and sync of their history, and the expiry sweep."""
