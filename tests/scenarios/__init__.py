"""End-to-end scenarios that cross apps, driven through the browser like a person would."""
