"""Credential connector: credentialing platforms to xAPI, and LAP events back to awards."""

__version__ = "0.19.0"
