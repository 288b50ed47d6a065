"""Local fakes of the platform APIs, speaking their documented shapes (tests and `make run`)."""
