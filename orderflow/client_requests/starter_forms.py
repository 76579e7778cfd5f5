"""The forms seed 000 names: the website questionnaire and the design approval form, ready to send."""

from __future__ import annotations

from typing import Any

WEBSITE_QUESTIONNAIRE: dict[str, Any] = {
    "name": "Website questionnaire",
    "description": "What we need to know before designing the site.",
    "definition": {
        "questions": [
            {
                "key": "about",
                "type": "info",
                "label": "About your business",
                "help": "A few words help us design a site that fits you.",
            },
            {
                "key": "business-name",
                "type": "short_text",
                "label": "Business name",
                "required": True,
                "max_length": 200,
            },
            {
                "key": "description",
                "type": "long_text",
                "label": "What does your business do?",
                "required": True,
            },
            {
                "key": "contact-email",
                "type": "email",
                "label": "E-mail for the site's contact form",
                "required": True,
            },
            {"key": "phone", "type": "phone", "label": "Phone shown on the site"},
            {
                "key": "has-domain",
                "type": "yes_no",
                "label": "Do you already own a domain name?",
                "required": True,
            },
            {
                "key": "domain",
                "type": "short_text",
                "label": "Which domain?",
                "help": "For example bakery.pt",
                "pattern": r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                "show_if": {"question": "has-domain", "equals": "yes"},
            },
            {
                "key": "pages",
                "type": "multiple_choice",
                "label": "Pages you need",
                "choices": ["Home", "About", "Services", "Shop", "Blog", "Contact"],
            },
            {
                "key": "style",
                "type": "single_choice",
                "label": "Style",
                "choices": ["Classic", "Modern", "Playful"],
                "required": True,
            },
            {
                "key": "page-count",
                "type": "number",
                "label": "How many pages, roughly?",
                "min": 1,
                "max": 100,
            },
            {"key": "launch", "type": "date", "label": "When would you like to launch?"},
            {
                "key": "logo",
                "type": "file",
                "label": "Your logo",
                "max_files": 3,
                "max_size_mb": 10,
                "file_types": ["pdf", "png", "jpeg"],
            },
        ],
        "moves": {"on_submit": "questionnaire-received"},
    },
}

DESIGN_APPROVAL: dict[str, Any] = {
    "name": "Design review",
    "description": "The client approves the design or asks for revisions.",
    "definition": {
        "questions": [
            {
                "key": "decision",
                "type": "single_choice",
                "label": "Your decision",
                "choices": ["Approved", "Revisions"],
                "required": True,
            },
            {
                "key": "revisions",
                "type": "long_text",
                "label": "What should we change?",
                "required": True,
                "show_if": {"question": "decision", "equals": "Revisions"},
            },
            {
                "key": "rating",
                "type": "rating",
                "label": "How happy are you with the design so far?",
                "scale": 5,
            },
        ],
        "moves": {
            "question": "decision",
            "values": {"Approved": "website-approved", "Revisions": "revisions-submitted"},
        },
    },
}

STARTER_FORMS = [WEBSITE_QUESTIONNAIRE, DESIGN_APPROVAL]
