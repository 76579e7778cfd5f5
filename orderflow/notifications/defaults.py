"""The message templates Orderflow ships, in English, Portuguese and Russian (staff may override each)."""

# ruff: noqa: RUF001  (Russian text: Cyrillic letters that look Latin are meant)

from __future__ import annotations

# (event, kind of channel, language) -> (subject, body). Kinds: "email"; "short" for SMS, messenger and
# the portal inbox; "call" for the task a colleague gets (title and the script to follow).
_STAGE = "order.stage_changed"
_FEEDBACK = "feedback.request"

DEFAULTS: dict[tuple[str, str, str], tuple[str, str]] = {
    (_STAGE, "email", "en"): (
        "Your order {{ order.number }}: {{ stage.label }}",
        """Hello {{ client.name }},

Your order {{ order.number }} ({{ order.title }}) has moved to a new stage: {{ stage.label }}.
{% if stage.description %}
{{ stage.description }}
{% endif %}{% if links.tracking %}
You can follow your order here: {{ links.tracking }}
{% endif %}
Simply reply to this e-mail if you have any questions.
{% if upsell %}
{{ upsell }}
{% endif %}
{{ organisation.name }}""",
    ),
    (_STAGE, "email", "pt"): (
        "O seu pedido {{ order.number }}: {{ stage.label }}",
        """Olá, {{ client.name }},

O seu pedido {{ order.number }} ({{ order.title }}) passou para uma nova fase: {{ stage.label }}.
{% if stage.description %}
{{ stage.description }}
{% endif %}{% if links.tracking %}
Pode acompanhar o seu pedido aqui: {{ links.tracking }}
{% endif %}
Se tiver alguma dúvida, basta responder a este e-mail.
{% if upsell %}
{{ upsell }}
{% endif %}
{{ organisation.name }}""",
    ),
    (_STAGE, "email", "ru"): (
        "Ваш заказ {{ order.number }}: {{ stage.label }}",
        """Здравствуйте, {{ client.name }}!

Ваш заказ {{ order.number }} ({{ order.title }}) перешёл на новый этап: {{ stage.label }}.
{% if stage.description %}
{{ stage.description }}
{% endif %}{% if links.tracking %}
Следить за заказом можно здесь: {{ links.tracking }}
{% endif %}
Если у вас есть вопросы, просто ответьте на это письмо.
{% if upsell %}
{{ upsell }}
{% endif %}
{{ organisation.name }}""",
    ),
    (_STAGE, "short", "en"): (
        "Order {{ order.number }}",
        "{{ organisation.name }}: your order {{ order.number }} is now at “{{ stage.label }}”."
        "{% if links.tracking %} {{ links.tracking }}{% endif %}",
    ),
    (_STAGE, "short", "pt"): (
        "Pedido {{ order.number }}",
        "{{ organisation.name }}: o seu pedido {{ order.number }} está agora na fase «{{ stage.label }}»."
        "{% if links.tracking %} {{ links.tracking }}{% endif %}",
    ),
    (_STAGE, "short", "ru"): (
        "Заказ {{ order.number }}",
        "{{ organisation.name }}: ваш заказ {{ order.number }} перешёл на этап «{{ stage.label }}»."
        "{% if links.tracking %} {{ links.tracking }}{% endif %}",
    ),
    (_STAGE, "call", "en"): (
        "Call {{ client.name }} about order {{ order.number }}: {{ stage.label }}",
        """Tell {{ client.first_name }} that order {{ order.number }} ({{ order.title }}) has reached “{{ stage.label }}”.
{% if stage.description %}What it means for them: {{ stage.description }}
{% endif %}Ask whether they have any questions, and note the answers on the order.""",
    ),
    (_STAGE, "call", "pt"): (
        "Ligar a {{ client.name }} sobre o pedido {{ order.number }}: {{ stage.label }}",
        """Diga a {{ client.first_name }} que o pedido {{ order.number }} ({{ order.title }}) chegou à fase «{{ stage.label }}».
{% if stage.description %}O que significa para o cliente: {{ stage.description }}
{% endif %}Pergunte se tem alguma dúvida e registe as respostas no pedido.""",
    ),
    (_STAGE, "call", "ru"): (
        "Позвонить клиенту {{ client.name }} по заказу {{ order.number }}: {{ stage.label }}",
        """Сообщите клиенту ({{ client.first_name }}), что заказ {{ order.number }} ({{ order.title }}) перешёл на этап «{{ stage.label }}».
{% if stage.description %}Что это значит для клиента: {{ stage.description }}
{% endif %}Спросите, есть ли у клиента вопросы, и запишите ответы в заказе.""",
    ),
}

_KIND_OF_CHANNEL = {"email": "email", "sms": "short", "messenger": "short", "portal": "short", "call": "call"}


def default_template(event: str, channel: str, language: str) -> tuple[str, str]:
    """The shipped (subject, body) for the event and channel in `language`, else in English.

    KeyError for an event that ships no template (a programming error, not a user's).
    """
    kind = _KIND_OF_CHANNEL[channel]
    return DEFAULTS.get((event, kind, language)) or DEFAULTS[(event, kind, "en")]


def shipped_events() -> list[str]:
    return sorted({event for event, _kind, _language in DEFAULTS})
