"""Open Badges 2.0 and 3.0: documents POSTed by any compliant issuer (no API to call)."""
