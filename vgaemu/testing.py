"""pytest plugin: golden-screenshot fixtures for VGA guests (registered as entry point ``pytest11``)."""
