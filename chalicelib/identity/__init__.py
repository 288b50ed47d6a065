"""Learner identity: the directory's index (directory.py), where it is read from and when it is
read again (sources.py), and the IFI strategy (resolver.py)."""

from .directory import SALT_TABLES, DirectoryConflict, DirectoryEntry, LearnerDirectory, email_key, sha256_identity
from .resolver import IdentityResolver, ResolvedLearner

__all__ = [
    "SALT_TABLES",
    "DirectoryConflict",
    "DirectoryEntry",
    "IdentityResolver",
    "LearnerDirectory",
    "ResolvedLearner",
    "email_key",
    "sha256_identity",
]
