"""Cross-app tests: end-to-end scenarios, integration with real services, shared fixtures."""
