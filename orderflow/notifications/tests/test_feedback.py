"""Feedback after a won stage: asked on the client's channel, language and hours with a secure link;
answered once on a public page; on the order's timeline and card, and in the staff report."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.notifications import feedback as feedback_services
from orderflow.notifications import selectors
from orderflow.notifications.models import FeedbackRequest, MessageTemplate, OutboxMessage
from orderflow.notifications.preferences import update_contact_preferences
from orderflow.pipelines.models import Order, OrderEvent, Pipeline
from orderflow.pipelines.services import move_order, update_order
from tests.factories import ContactFactory, OrderFactory, UserFactory
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., Any]
LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")
EVENING = datetime.datetime(2026, 11, 23, 22, 30, tzinfo=LISBON)


def _client(language: str = "en", **preferences: Any) -> Contact:
    contact = ContactFactory(
        name="Ana Client", email="ana@example.com", language=language, time_zone="Europe/Lisbon"
    )
    arguments = {"channels": ["email"], "window_start": datetime.time(9), "window_end": datetime.time(21)}
    return update_contact_preferences(contact, by=None, **{**arguments, **preferences})


def _launch(order: Order, rep: User, capture: CaptureOnCommit) -> OrderEvent:
    """Approve the site, fill in its address and move the order to "Site Launched" (a won stage)."""
    with capture(execute=True):
        move_order(order, order.pipeline.stages.get(key="website-approved"), by=rep)
        update_order(order, by=rep, fields={"live-site": "https://bakery.example"})
        return move_order(order, order.pipeline.stages.get(key="site-launched"), by=rep)


def _link(text: str) -> str:
    match = re.search(r"http://testserver(/messages/feedback/[\w-]+/)", text)
    assert match, text
    return match.group(1)


def test_a_won_order_asks_the_client_for_feedback_at_nine_in_their_language(
    smtp_delivery: SmtpServer,
    web_pipeline: Pipeline,
    rep: User,
    settings: Any,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    settings.BASE_URL = "http://testserver"
    order = OrderFactory(pipeline=web_pipeline, client=_client("pt"), title="Site da padaria")

    with time_machine.travel(EVENING, tick=False):
        event = _launch(order, rep, django_capture_on_commit_callbacks)

    feedback = FeedbackRequest.objects.get(order=order)
    assert (feedback.event, feedback.contact) == (event, order.client)
    ask = OutboxMessage.objects.get(template_event=MessageTemplate.Event.FEEDBACK_REQUEST)
    assert ask.deliver_after == datetime.datetime(2026, 11, 24, 9, 0, tzinfo=LISBON)
    assert (ask.is_transactional, ask.channel, ask.language) == (False, "email", "pt")
    assert ask.subject == "Como correu? Pedido WEB-00001"
    assert "Avalie-nos de 1 a 5" in ask.body_text
    assert ask.links == {"feedback": "http://testserver" + _link(ask.body_text)}

    with time_machine.travel(ask.deliver_after, tick=False), django_capture_on_commit_callbacks(execute=True):
        from orderflow.notifications import services

        services.deliver_due_messages()
    mails = {mail.subject: mail for mail in smtp_delivery.wait_for(2)}
    mail = mails["Como correu? Pedido WEB-00001"]
    assert "/messages/unsubscribe/" in str(mail.message["List-Unsubscribe"])
    assert _link(mail.body) == _link(ask.body_text)


def test_entering_a_won_stage_again_asks_nothing_new(
    web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=_client())
    event = _launch(order, rep, django_capture_on_commit_callbacks)

    again = feedback_services.request_feedback(event)

    assert again == FeedbackRequest.objects.get()
    assert OutboxMessage.objects.filter(template_event="feedback.request").count() == 1


def test_a_client_who_unsubscribed_is_not_asked_and_staff_see_why(
    web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    order = OrderFactory(pipeline=web_pipeline, client=_client(marketing_opt_out=True))

    _launch(order, rep, django_capture_on_commit_callbacks)

    ask = OutboxMessage.objects.get(template_event="feedback.request")
    assert (ask.status, ask.reason) == ("suppressed", "offers_refused")


def test_an_sms_client_gets_the_short_request_with_the_link(
    http_endpoint: Any,
    web_pipeline: Pipeline,
    rep: User,
    settings: Any,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    from orderflow.notifications.models import AppriseEndpoint

    settings.BASE_URL = "http://testserver"
    AppriseEndpoint.objects.create(channel="sms", url=http_endpoint.json_url("sms"))
    client = _client(
        "ru",
        channels=["sms"],
        phone="+79123456789",
        window_start=datetime.time(0),
        window_end=datetime.time(0),
    )
    order = OrderFactory(pipeline=web_pipeline, client=client)

    _launch(order, rep, django_capture_on_commit_callbacks)

    texts = [post.payload["message"] for post in http_endpoint.posts]
    [ask] = [text for text in texts if "Оцените от 1 до 5" in text]
    assert ask.startswith("My agency: ваш заказ WEB-00001 выполнен.")
    assert _link(ask)


def _asked(
    web_pipeline: Pipeline, rep: User, capture: CaptureOnCommit, language: str = "en"
) -> tuple[Order, str]:
    order = OrderFactory(pipeline=web_pipeline, client=_client(language), title="Bakery website")
    with time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0, tzinfo=LISBON), tick=False):
        _launch(order, rep, capture)
    ask = OutboxMessage.objects.get(order=order, template_event="feedback.request")
    return order, ask.links["feedback"].removeprefix("http://localhost:8000")


@pytest.fixture
def feedback_link(
    settings: Any, web_pipeline: Pipeline, rep: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> tuple[Order, str]:
    settings.BASE_URL = ""
    return _asked(web_pipeline, rep, django_capture_on_commit_callbacks)


def test_the_client_rates_and_comments_once_and_it_lands_on_the_timeline(
    client: Client, feedback_link: tuple[Order, str], django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    order, link = feedback_link
    page = client.get(link)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert "How did we do?" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(link, {"rating": "4", "comment": "Lovely site, a bit late."})
        again = client.post(link, {"rating": "1", "comment": "Changed my mind"})  # double submit

    assert "We have received your answer" in answered.content.decode()
    assert "We already have your answer" in again.content.decode()
    feedback = FeedbackRequest.objects.get(order=order)
    assert (feedback.rating, feedback.comment) == (4, "Lovely site, a bit late.")
    [event] = order.events.filter(kind=OrderEvent.Kind.FEEDBACK_RECEIVED)
    assert event.message == "Rated 4 out of 5: Lovely site, a bit late."
    assert event.data == {"feedback": feedback.pk, "rating": 4}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param({"comment": "no rating"}, "Choose a rating from 1 to 5.", id="no-rating"),
        pytest.param({"rating": "6"}, "Select a valid choice", id="rating-6"),
        pytest.param({"rating": "0"}, "Select a valid choice", id="rating-0"),
        pytest.param({"rating": "5", "comment": "x" * 4001}, "4000 characters", id="comment-too-long"),
    ],
)
def test_a_bad_answer_is_refused_with_a_message_and_nothing_is_recorded(
    client: Client, feedback_link: tuple[Order, str], data: dict[str, str], error: str
) -> None:
    order, link = feedback_link

    response = client.post(link, data)

    assert response.status_code == 422
    assert error in response.content.decode()
    assert FeedbackRequest.objects.get(order=order).answered_at is None
    assert not order.events.filter(kind=OrderEvent.Kind.FEEDBACK_RECEIVED).exists()


def test_the_service_refuses_a_rating_outside_one_to_five(feedback_link: tuple[Order, str]) -> None:
    order, _link_path = feedback_link
    with pytest.raises(feedback_services.FeedbackError, match="from 1 to 5"):
        feedback_services.submit_feedback(order.feedback, rating=9, comment="")


def test_a_tampered_link_gets_a_clear_page_and_opens_nothing(
    client: Client, feedback_link: tuple[Order, str]
) -> None:
    _order, link = feedback_link
    tampered = link[:-6] + ("A" if link[-6] != "A" else "B") + link[-5:]

    response = client.post(tampered, {"rating": "5"})

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert not FeedbackRequest.objects.filter(answered_at__isnull=False).exists()


def test_an_expired_link_says_so_in_the_clients_language(
    client: Client, feedback_link: tuple[Order, str]
) -> None:
    order, link = feedback_link
    later = order.feedback.expires_at + datetime.timedelta(seconds=1)

    with time_machine.travel(later, tick=False):
        response = client.post(link, {"rating": "5"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert order.feedback.answered_at is None


def test_an_answered_link_still_shows_the_answer_after_it_expired(
    client: Client, feedback_link: tuple[Order, str]
) -> None:
    order, link = feedback_link
    client.post(link, {"rating": "5", "comment": "Great"})

    with time_machine.travel(order.feedback.expires_at + datetime.timedelta(days=1), tick=False):
        response = client.get(link)

    assert response.status_code == 200
    assert "Great" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "heading", "button"),
    [("pt", "Como correu?", "Enviar a minha resposta"), ("ru", "Как мы справились?", "Отправить ответ")],
)
def test_the_page_speaks_the_clients_language(
    client: Client,
    settings: Any,
    web_pipeline: Pipeline,
    rep: User,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    language: str,
    heading: str,
    button: str,
) -> None:
    """The feedback page follows the contact's language, not the browser's."""
    settings.BASE_URL = ""
    _order, link = _asked(web_pipeline, rep, django_capture_on_commit_callbacks, language=language)

    page = client.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f'lang="{language}"' in page
    assert heading in page
    assert button in page


def test_staff_see_the_answer_on_the_order_card(
    client: Client, rep: User, feedback_link: tuple[Order, str]
) -> None:
    order, link = feedback_link
    client.post(link, {"rating": "3", "comment": "OK overall"})
    client.force_login(rep)

    section = client.get(reverse("notifications:order-feedback", args=[order.pk])).content.decode()
    card = client.get(reverse("backoffice:order-detail", args=[order.pk])).content.decode()

    assert "3 out of 5" in section
    assert "OK overall" in section
    assert reverse("notifications:order-feedback", args=[order.pk]) in card
    assert "Rated 3 out of 5: OK overall" in card, "on the timeline"


def test_the_order_feedback_section_is_for_staff_only(
    client: Client, feedback_link: tuple[Order, str]
) -> None:
    order, _link_path = feedback_link
    client.force_login(UserFactory(role=Role.CLIENT))
    assert client.get(reverse("notifications:order-feedback", args=[order.pk])).status_code == 403


def _answers(count: int, web_pipeline: Pipeline) -> None:
    for n in range(count):
        order = OrderFactory(pipeline=web_pipeline)
        feedback = FeedbackRequest.objects.create(
            order=order,
            contact=order.client,
            salt=f"s{n}",
            token_hash=f"h{n}",
            expires_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        )
        feedback_services.submit_feedback(feedback, rating=n % 5 + 1, comment=f"Comment {n}")


def test_the_report_shows_average_count_and_distribution(
    client: Client, rep: User, web_pipeline: Pipeline
) -> None:
    _answers(7, web_pipeline)  # ratings 1 2 3 4 5 1 2
    client.force_login(rep)

    page = client.get(reverse("notifications:feedback-report")).content.decode()

    summary = selectors.feedback_summary()
    assert (summary.answered, summary.average) == (7, 2.57)
    assert [(bar.rating, bar.count) for bar in summary.bars] == [(5, 1), (4, 1), (3, 1), (2, 2), (1, 2)]
    assert 'data-testid="feedback-average">2.6<' in page
    assert 'data-testid="feedback-count">7<' in page
    assert "2 clients rated 1" in page
    assert "Comment 6" in page


def test_the_report_filters_by_rating(client: Client, rep: User, web_pipeline: Pipeline) -> None:
    _answers(5, web_pipeline)
    client.force_login(rep)

    page = client.get(reverse("notifications:feedback-report"), {"rating": "5"}).content.decode()

    assert "Comment 4" in page
    assert "Comment 3" not in page


def test_the_report_without_answers_says_what_happens(client: Client, rep: User) -> None:
    client.force_login(rep)
    assert "No answers yet" in client.get(reverse("notifications:feedback-report")).content.decode()


@pytest.mark.parametrize("count", [1, 40])
def test_the_report_asks_the_database_a_fixed_number_of_times(
    client: Client, rep: User, web_pipeline: Pipeline, django_assert_num_queries: Any, count: int
) -> None:
    _answers(count, web_pipeline)
    client.force_login(rep)
    with django_assert_num_queries(7):  # session, user, two for permissions, answer count, summary, rows
        assert client.get(reverse("notifications:feedback-report")).status_code == 200


def test_the_report_is_for_staff_only(client: Client) -> None:
    client.force_login(UserFactory(role=Role.CLIENT))
    assert client.get(reverse("notifications:feedback-report")).status_code == 403


@pytest.mark.parametrize("event", MessageTemplate.Event.values)
@pytest.mark.parametrize("channel", ["email", "sms", "messenger", "call", "portal"])
@pytest.mark.parametrize("language", ["en", "pt", "ru"])
def test_every_template_page_opens(client: Client, event: str, channel: str, language: str) -> None:
    client.force_login(UserFactory(role=Role.ADMIN))
    url = reverse("notifications:template-edit", args=[event, channel, language])
    assert client.get(url).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_submits_at_the_same_moment_record_one_answer(web_pipeline: Pipeline) -> None:
    import threading

    from django.db import connection

    order = OrderFactory(pipeline=web_pipeline)
    feedback = FeedbackRequest.objects.create(
        order=order,
        contact=order.client,
        salt="race",
        token_hash="race",
        expires_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
    )
    barrier = threading.Barrier(10)
    recorded: list[bool] = []

    def submit(rating: int) -> None:
        try:
            barrier.wait(timeout=30)
            copy = FeedbackRequest.objects.get(pk=feedback.pk)
            recorded.append(
                feedback_services.submit_feedback(copy, rating=rating, comment=f"try {rating}")[1]
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n % 5 + 1,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(recorded) == [False] * 9 + [True]
    assert order.events.filter(kind=OrderEvent.Kind.FEEDBACK_RECEIVED).count() == 1
    feedback.refresh_from_db()
    assert feedback.comment == f"try {feedback.rating}"
