"""Property-based (hypothesis) tests: nasty inputs are refused with InputError, never a crash."""
