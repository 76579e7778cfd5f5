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
{% endif %}{% if links.booking %}
Please pick a time for our call here: {{ links.booking }}
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
{% endif %}{% if links.booking %}
Escolha aqui uma hora para a nossa chamada: {{ links.booking }}
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
{% endif %}{% if links.booking %}
Выберите удобное время для звонка: {{ links.booking }}
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
        "{% if links.booking %} {{ links.booking }}{% elif links.tracking %} {{ links.tracking }}{% endif %}",
    ),
    (_STAGE, "short", "pt"): (
        "Pedido {{ order.number }}",
        "{{ organisation.name }}: o seu pedido {{ order.number }} está agora na fase «{{ stage.label }}»."
        "{% if links.booking %} {{ links.booking }}{% elif links.tracking %} {{ links.tracking }}{% endif %}",
    ),
    (_STAGE, "short", "ru"): (
        "Заказ {{ order.number }}",
        "{{ organisation.name }}: ваш заказ {{ order.number }} перешёл на этап «{{ stage.label }}»."
        "{% if links.booking %} {{ links.booking }}{% elif links.tracking %} {{ links.tracking }}{% endif %}",
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
    (_FEEDBACK, "email", "en"): (
        "How did we do? Order {{ order.number }}",
        """Hello {{ client.first_name }},

Your order {{ order.number }} ({{ order.title }}) is done. We would love to know how it went for you.

Please rate us from 1 to 5 and, if you like, tell us in a few words what we could do better:
{{ links.feedback }}

It takes less than a minute. Thank you!
{% if upsell %}
{{ upsell }}
{% endif %}
{{ organisation.name }}""",
    ),
    (_FEEDBACK, "email", "pt"): (
        "Como correu? Pedido {{ order.number }}",
        """Olá, {{ client.first_name }},

O seu pedido {{ order.number }} ({{ order.title }}) está concluído. Gostaríamos muito de saber como correu.

Avalie-nos de 1 a 5 e, se quiser, diga-nos em poucas palavras o que podemos melhorar:
{{ links.feedback }}

Demora menos de um minuto. Obrigado!
{% if upsell %}
{{ upsell }}
{% endif %}
{{ organisation.name }}""",
    ),
    (_FEEDBACK, "email", "ru"): (
        "Как мы справились? Заказ {{ order.number }}",
        """Здравствуйте, {{ client.first_name }}!

Ваш заказ {{ order.number }} ({{ order.title }}) выполнен. Нам очень важно знать, как всё прошло.

Оцените нашу работу от 1 до 5 и, если хотите, напишите в паре слов, что нам стоит улучшить:
{{ links.feedback }}

Это займёт меньше минуты. Спасибо!
{% if upsell %}
{{ upsell }}
{% endif %}
{{ organisation.name }}""",
    ),
    (_FEEDBACK, "short", "en"): (
        "Order {{ order.number }}: how did we do?",
        "{{ organisation.name }}: your order {{ order.number }} is done. How did we do? "
        "Rate us from 1 to 5: {{ links.feedback }}",
    ),
    (_FEEDBACK, "short", "pt"): (
        "Pedido {{ order.number }}: como correu?",
        "{{ organisation.name }}: o seu pedido {{ order.number }} está concluído. Como correu? "
        "Avalie-nos de 1 a 5: {{ links.feedback }}",
    ),
    (_FEEDBACK, "short", "ru"): (
        "Заказ {{ order.number }}: как мы справились?",
        "{{ organisation.name }}: ваш заказ {{ order.number }} выполнен. Как мы справились? "
        "Оцените от 1 до 5: {{ links.feedback }}",
    ),
    (_FEEDBACK, "call", "en"): (
        "Ask {{ client.name }} for feedback on order {{ order.number }}",
        """Order {{ order.number }} ({{ order.title }}) is done. Ask {{ client.first_name }} how it went: a rating from 1 to 5 and what we could do better.
They can also answer on the feedback page: {{ links.feedback }}""",
    ),
    (_FEEDBACK, "call", "pt"): (
        "Pedir a opinião de {{ client.name }} sobre o pedido {{ order.number }}",
        """O pedido {{ order.number }} ({{ order.title }}) está concluído. Pergunte a {{ client.first_name }} como correu: uma nota de 1 a 5 e o que podemos melhorar.
Também pode responder na página de avaliação: {{ links.feedback }}""",
    ),
    (_FEEDBACK, "call", "ru"): (
        "Попросить клиента {{ client.name }} оценить заказ {{ order.number }}",
        """Заказ {{ order.number }} ({{ order.title }}) выполнен. Спросите клиента ({{ client.first_name }}), как всё прошло: оценка от 1 до 5 и что нам стоит улучшить.
Клиент может ответить и на странице отзыва: {{ links.feedback }}""",
    ),
}

_KIND_OF_CHANNEL = {"email": "email", "sms": "short", "messenger": "short", "portal": "short", "call": "call"}


def default_template(event: str, channel: str, language: str) -> tuple[str, str]:
    """The shipped (subject, body) for the event and channel in `language`, else in English, else
    empty: an event without shipped wording never breaks a page, staff write their own."""
    kind = _KIND_OF_CHANNEL.get(channel, "short")
    return DEFAULTS.get((event, kind, language)) or DEFAULTS.get((event, kind, "en")) or ("", "")


def shipped_events() -> list[str]:
    return sorted({event for event, _kind, _language in DEFAULTS})
