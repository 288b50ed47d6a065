"""Credential events to the LRS: translation (documents -> statements) and the worker."""
