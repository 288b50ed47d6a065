"""Local fakes of the platform APIs and of an xAPI LRS (fake_lrs), speaking their documented shapes
(tests and `make run`)."""
