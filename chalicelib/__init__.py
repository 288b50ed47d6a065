"""Credential connector: credentialing platforms to xAPI, and LAP events back to awards."""
