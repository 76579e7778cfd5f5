"""People: staff users who log in by e-mail, their roles, and the contacts orders are for."""
