"""Template tags and filters of the staff workspace."""
