"""Learner identity: the directory (directory.py) and the IFI strategy (resolver.py)."""

from .directory import SALT_TABLES, DirectoryEntry, LearnerDirectory, sha256_identity
from .resolver import IdentityResolver, ResolvedLearner

__all__ = ["SALT_TABLES", "DirectoryEntry", "IdentityResolver", "LearnerDirectory", "ResolvedLearner",
           "sha256_identity"]
