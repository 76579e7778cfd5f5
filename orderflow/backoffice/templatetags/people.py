"""Template filters that show people compactly (initials on board cards)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def initials(person: object) -> str:
    """Up to two capital initials of a person's name ("Tom Becker" → "TB"); e-mail-only users give one."""
    name = str(person or "").strip()
    if "@" in name and " " not in name:
        name = name.split("@", 1)[0]
    words = [word for word in name.replace(".", " ").replace("-", " ").split() if word]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()
