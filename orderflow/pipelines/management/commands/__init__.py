"""The pipelines app's management commands (`orderflow <name>`)."""
