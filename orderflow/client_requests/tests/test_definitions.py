"""Form definitions and answers: every question type's checks, show-if, and file types by content."""

from __future__ import annotations

import pytest

from orderflow.client_requests.definitions import (
    AnswerError,
    FormDefinitionError,
    clean_answer,
    clean_definition,
    display_answer,
    is_visible,
    localize_question,
    missing_answers,
    sniff_file_kind,
)


def test_definition_gives_unique_keys_and_keeps_show_if_pointing_up() -> None:
    cleaned = clean_definition(
        {
            "questions": [
                {"type": "short_text", "label": "Name"},
                {"type": "short_text", "label": "Name"},
                {"type": "yes_no", "label": "Domain?"},
                {"type": "short_text", "label": "Which", "show_if": {"question": "domain", "equals": "yes"}},
            ]
        }
    )
    assert [q["key"] for q in cleaned["questions"]] == ["name", "name-2", "domain", "which"]
    with pytest.raises(FormDefinitionError):
        clean_definition(
            {
                "questions": [
                    {"type": "short_text", "label": "A", "show_if": {"question": "b", "equals": "x"}},
                    {"type": "yes_no", "label": "B"},
                ]
            }
        )


def test_choice_questions_need_two_distinct_choices_and_moves_need_a_choice_question() -> None:
    with pytest.raises(FormDefinitionError):
        clean_definition({"questions": [{"type": "dropdown", "label": "Pick", "choices": ["One"]}]})
    with pytest.raises(FormDefinitionError):
        clean_definition(
            {"questions": [{"type": "short_text", "label": "T"}], "moves": {"question": "t", "values": {}}}
        )
    with pytest.raises(FormDefinitionError):
        clean_definition({"questions": [{"type": "short_text", "label": "T", "pattern": "("}]})


@pytest.mark.parametrize(
    ("question", "raw", "expected"),
    [
        ({"type": "short_text", "label": "T"}, "  hi ", "hi"),
        ({"type": "short_text", "label": "T"}, "   ", None),
        ({"type": "number", "label": "N", "min": 1, "max": 10}, "2,5", "2.5"),
        ({"type": "email", "label": "E"}, "a@b.pt", "a@b.pt"),
        ({"type": "phone", "label": "P"}, "+351 912 345 678", "+351 912 345 678"),
        ({"type": "date", "label": "D"}, "2027-01-31", "2027-01-31"),
        ({"type": "yes_no", "label": "Y"}, "no", "no"),
        ({"type": "rating", "label": "R", "scale": 5}, "4", 4),
        ({"type": "dropdown", "label": "D", "choices": ["a", "b"]}, "b", "b"),
        ({"type": "multiple_choice", "label": "M", "choices": ["a", "b", "c"]}, ["c", "a"], ["a", "c"]),
    ],
)
def test_answers_are_cleaned_per_type(question: dict, raw: str | list[str], expected: object) -> None:
    assert clean_answer(question, raw) == expected


@pytest.mark.parametrize(
    ("question", "raw"),
    [
        ({"type": "number", "label": "N", "max": 10}, "11"),
        ({"type": "number", "label": "N"}, "ten"),
        ({"type": "email", "label": "E"}, "not-an-address"),
        ({"type": "phone", "label": "P"}, "call me"),
        ({"type": "date", "label": "D"}, "31/01/2027"),
        ({"type": "short_text", "label": "T", "min_length": 3}, "ab"),
        ({"type": "short_text", "label": "T", "max_length": 3}, "abcd"),
        ({"type": "short_text", "label": "T", "pattern": "[a-z]+\\.pt"}, "bakery.com"),
        ({"type": "single_choice", "label": "S", "choices": ["a", "b"]}, "z"),
        ({"type": "rating", "label": "R", "scale": 5}, "6"),
    ],
)
def test_wrong_answers_are_refused_with_a_message(question: dict, raw: str) -> None:
    with pytest.raises(AnswerError) as refused:
        clean_answer(question, raw)
    assert refused.value.message


def test_show_if_hides_a_question_and_its_requirement() -> None:
    questions = [
        {"key": "has", "type": "yes_no", "label": "Has", "required": True},
        {
            "key": "which",
            "type": "short_text",
            "label": "Which",
            "required": True,
            "show_if": {"question": "has", "equals": "yes"},
        },
    ]
    assert not is_visible(questions[1], {"has": "no"})
    assert missing_answers(questions, {"has": "no"}, {}) == {}
    assert set(missing_answers(questions, {"has": "yes"}, {})) == {"which"}


def test_file_kinds_are_recognised_by_their_first_bytes_not_their_name() -> None:
    assert sniff_file_kind(b"%PDF-1.7\n") == "pdf"
    assert sniff_file_kind(b"\x89PNG\r\n\x1a\n....") == "png"
    assert sniff_file_kind(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff_file_kind(b"MZ\x90\x00\x03\x00\x00\x00") is None  # a Windows program
    assert sniff_file_kind(b"<script>alert(1)</script>") == "text"


def test_translations_are_kept_when_well_formed_and_dropped_when_not() -> None:
    cleaned = clean_definition(
        {
            "title": "Review",
            "translations": {"pt": {"title": "Revisão"}, "xx": {"title": "?"}},
            "questions": [
                {
                    "type": "single_choice",
                    "label": "Decision",
                    "choices": ["Approved", "Revisions"],
                    "translations": {
                        "pt": {"label": "Decisão", "choices": ["Aprovado", "Alterações"], "help": "no help"},
                        "ru": {"label": "Решение", "choices": ["Только один"]},
                        "de": {"label": "Entscheidung"},
                    },
                }
            ],
        }
    )
    assert cleaned["title"] == "Review"
    assert cleaned["translations"] == {"pt": {"title": "Revisão"}}
    # Help without help in the form, choices of the wrong count and unknown languages are dropped.
    assert cleaned["questions"][0]["translations"] == {
        "pt": {"label": "Decisão", "choices": ["Aprovado", "Alterações"]},
        "ru": {"label": "Решение"},
    }


def test_a_localized_question_shows_translated_words_but_keeps_the_stored_values() -> None:
    question = clean_definition(
        {
            "questions": [
                {
                    "type": "multiple_choice",
                    "label": "Pages",
                    "choices": ["Home", "Shop"],
                    "translations": {"ru": {"label": "Страницы", "choices": ["Главная", "Магазин"]}},
                }
            ]
        }
    )["questions"][0]
    russian = localize_question(question, "ru")
    assert russian["label"] == "Страницы"
    assert russian["choices"] == ["Home", "Shop"]
    assert display_answer(russian, ["Home", "Shop"]) == "Главная, Магазин"
    assert display_answer(question, ["Home", "Shop"]) == "Home, Shop"  # staff read the form's own words
    assert localize_question(question, "pt")["label"] == "Pages"  # no Portuguese: as written
    assert clean_answer(russian, ["Shop"]) == ["Shop"]
    with pytest.raises(AnswerError):
        clean_answer(russian, ["Магазин"])  # the words shown are not a value
