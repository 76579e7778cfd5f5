# ruff: noqa: RUF001  (Russian text: Cyrillic letters that look Latin are meant)
"""The forms seed 000 names: the website questionnaire and the design approval form, ready to send.

Each is written in English, Portuguese and Russian. These texts are data (what the business asks its
clients), not interface strings, so they live here rather than in the translation catalogues: a
recipient reads the form in their own language, while the stored answers are the English choices, so
the moves ("Approved" → Website Approved) work whatever language the client answered in.
"""

from __future__ import annotations

from typing import Any

WEBSITE_QUESTIONNAIRE: dict[str, Any] = {
    "name": "Website questionnaire",
    "description": "What we need to know before designing the site.",
    "definition": {
        "title": "Website questionnaire",
        "translations": {
            "pt": {"title": "Questionário do site"},
            "ru": {"title": "Анкета для сайта"},
        },
        "questions": [
            {
                "key": "about",
                "type": "info",
                "label": "About your business",
                "help": "A few words help us design a site that fits you.",
                "translations": {
                    "pt": {
                        "label": "Sobre o seu negócio",
                        "help": "Algumas palavras ajudam-nos a desenhar um site à sua medida.",
                    },
                    "ru": {
                        "label": "О вашем бизнесе",
                        "help": "Несколько слов помогут нам сделать сайт, который подойдёт именно вам.",
                    },
                },
            },
            {
                "key": "business-name",
                "type": "short_text",
                "label": "Business name",
                "required": True,
                "max_length": 200,
                "translations": {
                    "pt": {"label": "Nome do negócio"},
                    "ru": {"label": "Название компании"},
                },
            },
            {
                "key": "description",
                "type": "long_text",
                "label": "What does your business do?",
                "required": True,
                "translations": {
                    "pt": {"label": "O que faz o seu negócio?"},
                    "ru": {"label": "Чем занимается ваша компания?"},
                },
            },
            {
                "key": "contact-email",
                "type": "email",
                "label": "E-mail for the site's contact form",
                "required": True,
                "translations": {
                    "pt": {"label": "E-mail para o formulário de contacto do site"},
                    "ru": {"label": "Адрес e-mail для формы обратной связи на сайте"},
                },
            },
            {
                "key": "phone",
                "type": "phone",
                "label": "Phone shown on the site",
                "translations": {
                    "pt": {"label": "Telefone a mostrar no site"},
                    "ru": {"label": "Телефон для сайта"},
                },
            },
            {
                "key": "has-domain",
                "type": "yes_no",
                "label": "Do you already own a domain name?",
                "required": True,
                "translations": {
                    "pt": {"label": "Já tem um nome de domínio?"},
                    "ru": {"label": "У вас уже есть доменное имя?"},
                },
            },
            {
                "key": "domain",
                "type": "short_text",
                "label": "Which domain?",
                "help": "For example bakery.pt",
                "pattern": r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                "show_if": {"question": "has-domain", "equals": "yes"},
                "translations": {
                    "pt": {"label": "Qual é o domínio?", "help": "Por exemplo padaria.pt"},
                    "ru": {"label": "Какой домен?", "help": "Например, bakery.ru"},
                },
            },
            {
                "key": "pages",
                "type": "multiple_choice",
                "label": "Pages you need",
                "choices": ["Home", "About", "Services", "Shop", "Blog", "Contact"],
                "translations": {
                    "pt": {
                        "label": "Páginas de que precisa",
                        "choices": ["Início", "Sobre nós", "Serviços", "Loja", "Blogue", "Contactos"],
                    },
                    "ru": {
                        "label": "Какие страницы нужны",
                        "choices": ["Главная", "О нас", "Услуги", "Магазин", "Блог", "Контакты"],
                    },
                },
            },
            {
                "key": "style",
                "type": "single_choice",
                "label": "Style",
                "choices": ["Classic", "Modern", "Playful"],
                "required": True,
                "translations": {
                    "pt": {"label": "Estilo", "choices": ["Clássico", "Moderno", "Divertido"]},
                    "ru": {"label": "Стиль", "choices": ["Классический", "Современный", "Игривый"]},
                },
            },
            {
                "key": "page-count",
                "type": "number",
                "label": "How many pages, roughly?",
                "min": 1,
                "max": 100,
                "translations": {
                    "pt": {"label": "Quantas páginas, mais ou menos?"},
                    "ru": {"label": "Сколько примерно страниц?"},
                },
            },
            {
                "key": "launch",
                "type": "date",
                "label": "When would you like to launch?",
                "translations": {
                    "pt": {"label": "Quando gostaria de lançar o site?"},
                    "ru": {"label": "Когда вы хотели бы запустить сайт?"},
                },
            },
            {
                "key": "logo",
                "type": "file",
                "label": "Your logo",
                "max_files": 3,
                "max_size_mb": 10,
                "file_types": ["pdf", "png", "jpeg"],
                "translations": {
                    "pt": {"label": "O seu logótipo"},
                    "ru": {"label": "Ваш логотип"},
                },
            },
            {
                "key": "keeping-informed",
                "type": "info",
                "label": "How should we keep you informed?",
                "help": "Your answers become your message settings; you can change them later from "
                "the link at the foot of our e-mails.",
                "translations": {
                    "pt": {
                        "label": "Como prefere receber notícias nossas?",
                        "help": "As suas respostas passam a ser as suas definições de mensagens; pode "
                        "alterá-las depois com a ligação no fim dos nossos e-mails.",
                    },
                    "ru": {
                        "label": "Как нам держать вас в курсе?",
                        "help": "Ваши ответы станут настройками сообщений; изменить их можно позже по "
                        "ссылке внизу наших писем.",
                    },
                },
            },
            {
                "key": "preferred-channel",
                "type": "single_choice",
                "label": "How should we contact you first?",
                "choices": ["E-mail", "Phone call"],
                "saves_to": "channel",
                "translations": {
                    "pt": {
                        "label": "Como devemos contactá-lo primeiro?",
                        "choices": ["E-mail", "Chamada telefónica"],
                    },
                    "ru": {
                        "label": "Как связываться с вами в первую очередь?",
                        "choices": ["E-mail", "Звонок"],
                    },
                },
            },
            {
                "key": "contact-from",
                "type": "short_text",
                "label": "Contact me from (time of day)",
                "help": "For example 09:00. Leave both times empty for any time.",
                "saves_to": "window_start",
                "translations": {
                    "pt": {
                        "label": "Contactar-me a partir das (hora do dia)",
                        "help": "Por exemplo 09:00. Deixe as duas horas vazias para qualquer hora.",
                    },
                    "ru": {
                        "label": "Связываться со мной с (время дня)",
                        "help": "Например, 09:00. Оставьте оба поля пустыми, если подходит любое время.",
                    },
                },
            },
            {
                "key": "contact-until",
                "type": "short_text",
                "label": "Until",
                "help": "For example 18:00, in your own time zone.",
                "saves_to": "window_end",
                "translations": {
                    "pt": {"label": "Até às", "help": "Por exemplo 18:00, no seu fuso horário."},
                    "ru": {"label": "До", "help": "Например, 18:00, по вашему времени."},
                },
            },
        ],
        "moves": {"on_submit": "questionnaire-received"},
    },
}

DESIGN_APPROVAL: dict[str, Any] = {
    "name": "Design review",
    "description": "The client approves the design or asks for revisions.",
    "definition": {
        "title": "Design review",
        "translations": {
            "pt": {"title": "Revisão do design"},
            "ru": {"title": "Согласование дизайна"},
        },
        "questions": [
            {
                "key": "decision",
                "type": "single_choice",
                "label": "Your decision",
                "choices": ["Approved", "Revisions"],
                "required": True,
                "translations": {
                    "pt": {"label": "A sua decisão", "choices": ["Aprovado", "Pedir alterações"]},
                    "ru": {"label": "Ваше решение", "choices": ["Утверждаю", "Нужны правки"]},
                },
            },
            {
                "key": "revisions",
                "type": "long_text",
                "label": "What should we change?",
                "required": True,
                "show_if": {"question": "decision", "equals": "Revisions"},
                "translations": {
                    "pt": {"label": "O que devemos mudar?"},
                    "ru": {"label": "Что нужно изменить?"},
                },
            },
            {
                "key": "rating",
                "type": "rating",
                "label": "How happy are you with the design so far?",
                "scale": 5,
                "translations": {
                    "pt": {"label": "Até agora, quão satisfeito está com o design?"},
                    "ru": {"label": "Насколько вам нравится дизайн?"},
                },
            },
        ],
        "moves": {
            "question": "decision",
            "values": {"Approved": "website-approved", "Revisions": "revisions-submitted"},
        },
    },
}

STARTER_FORMS = [WEBSITE_QUESTIONNAIRE, DESIGN_APPROVAL]
