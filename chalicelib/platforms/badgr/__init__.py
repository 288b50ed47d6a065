"""Canvas Credentials / Badgr: no webhooks; awarding (its answer is the issued event)."""
