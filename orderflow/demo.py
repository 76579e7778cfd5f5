"""Demo data for `orderflow demo`: staff, clients and orders across every stage, made through the real services.

Orders are opened, filled in and moved with create_order / update_order / move_order, so each
timeline is the one the product itself would have written; only the timestamps are then set back
into the past months, which no service offers because nothing but a demo should rewrite when
things happened.

Few contacts get an e-mail address (and only when the SMTP catcher keeps the mail), so the stage
changes made here leave a handful of messages to look at instead of a flood.
"""

from __future__ import annotations

import random
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.pipelines.models import FieldDefinition, Order, OrderEvent, Pipeline, Stage
from orderflow.pipelines.process_io import load_demo_process
from orderflow.pipelines.services import StageGuardError, create_order, move_order, update_order

DEMO_DOMAIN = "example.com"
# Contacts with an e-mail address; their stage changes reach the SMTP catcher.
CONTACTS_WITH_EMAIL = 2
HISTORY_DAYS = 200


@dataclass(frozen=True)
class StaffMember:
    name: str
    email: str
    role: str
    language: str
    time_zone: str


STAFF = (
    StaffMember("Helena Costa", f"helena.costa@{DEMO_DOMAIN}", Role.MANAGER, "pt", "Europe/Lisbon"),
    StaffMember("Tom Becker", f"tom.becker@{DEMO_DOMAIN}", Role.REP, "en", "Europe/London"),
    StaffMember("Inês Rocha", f"ines.rocha@{DEMO_DOMAIN}", Role.REP, "pt", "Europe/Lisbon"),
    StaffMember("Dmitri Volkov", f"dmitri.volkov@{DEMO_DOMAIN}", Role.REP, "ru", "Europe/Moscow"),
)


@dataclass(frozen=True)
class Locale:
    """How clients speaking one language are named, reached and where they live."""

    language: str
    weight: float
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    company_kinds: tuple[str, ...]
    company_names: tuple[str, ...]
    time_zones: tuple[str, ...]
    phone_format: str

    def person_name(self, rng: random.Random) -> str:
        return f"{rng.choice(self.first_names)} {rng.choice(self.last_names)}"

    def company_name(self, rng: random.Random) -> str:
        kind, name = rng.choice(self.company_kinds), rng.choice(self.company_names)
        return f"{name} {kind}" if self.language == "en" else f"{kind} {name}"


_FEMININE_ENDINGS = ("\N{CYRILLIC SMALL LETTER A}", "\N{CYRILLIC SMALL LETTER YA}")


class _RussianLocale(Locale):
    """Russian surnames agree with the person's gender: a woman's takes the feminine ending."""

    def person_name(self, rng: random.Random) -> str:
        first = rng.choice(self.first_names)
        last = rng.choice(self.last_names)
        is_female = first.endswith(_FEMININE_ENDINGS)
        return f"{first} {last}{_FEMININE_ENDINGS[0]}" if is_female else f"{first} {last}"


LOCALES = (
    Locale(
        language="en",
        weight=0.5,
        first_names=("Emma", "Oliver", "Ava", "James", "Sophia", "Liam", "Grace", "Noah", "Chloe", "Henry"),
        last_names=("Walker", "Bennett", "Hughes", "Carter", "Foster", "Reed", "Morgan", "Hayes", "Sullivan"),
        company_kinds=("Dental", "Bakery", "Law Group", "Fitness", "Realty", "Coffee Roasters", "Vet Clinic"),
        company_names=("Harbor", "Maple", "Summit", "Bright Oak", "Riverside", "Copper Kettle", "Juniper"),
        time_zones=(
            "America/New_York",
            "America/Chicago",
            "America/Los_Angeles",
            "Europe/London",
            "Australia/Sydney",
        ),
        phone_format="+1 202 555 01{:02d}",
    ),
    Locale(
        language="pt",
        weight=0.3,
        first_names=(
            "Ana",
            "João",
            "Beatriz",
            "Miguel",
            "Mariana",
            "Rui",
            "Sofia",
            "Tiago",
            "Catarina",
            "Pedro",
        ),
        last_names=(
            "Silva",
            "Santos",
            "Ferreira",
            "Pereira",
            "Oliveira",
            "Martins",
            "Sousa",
            "Gomes",
            "Carvalho",
        ),
        company_kinds=("Padaria", "Clínica", "Atelier", "Livraria", "Café", "Imobiliária", "Oficina"),
        company_names=("Sol Nascente", "da Ribeira", "Alfama", "do Mar", "Estrela", "Tejo", "Douro"),
        time_zones=(
            "Europe/Lisbon",
            "Atlantic/Azores",
            "Atlantic/Madeira",
            "America/Sao_Paulo",
            "America/Recife",
        ),
        phone_format="+351 21 555 01{:02d}",
    ),
    _RussianLocale(
        language="ru",
        weight=0.2,
        first_names=("Алексей", "Иван", "Михаил", "Сергей", "Анна", "Мария", "Екатерина", "Ольга", "Наталья"),
        last_names=("Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Новиков", "Морозов"),
        company_kinds=("Пекарня", "Студия", "Клиника", "Мастерская", "Агентство"),
        company_names=("«Север»", "«Берёзка»", "«Волга»", "«Заря»", "«Маяк»", "«Уют»"),
        time_zones=("Europe/Moscow", "Europe/Kaliningrad", "Asia/Yekaterinburg", "Asia/Novosibirsk"),
        phone_format="+7 495 555-01-{:02d}",
    ),
)

TITLES = (
    "Website for {client}",
    "Online shop for {client}",
    "Landing page: {client}",
    "Redesign of {client}'s site",
    "Booking site for {client}",
    "Portfolio site: {client}",
)
SIDE_REASONS: dict[str, tuple[str, ...]] = {
    Stage.Category.ON_HOLD: (
        "Client travelling until next month",
        "Waiting for logo and texts",
        "Budget review",
    ),
    Stage.Category.CANCELLED: ("Client chose another agency", "Project postponed indefinitely"),
}
# In the web-design process a revised design goes back to the client for review; some orders
# take this loop once or twice before approval, as real ones do.
REVISION_LOOP = ("initial-design-sent", "revisions-submitted", "revisions-in-production")


@dataclass
class DemoSummary:
    staff_created: list[str] = field(default_factory=list)
    staff_password: str | None = None
    contacts: int = 0
    orders: int = 0
    events: int = 0
    stages: Counter[Stage] = field(default_factory=Counter)
    # Orders a stage guard of the pipeline kept from their planned stage, with the guard's message.
    stopped_short: list[str] = field(default_factory=list)

    def describe(self) -> str:
        lines = [
            f"Demo data: {self.orders} orders with {self.events} timeline events for {self.contacts} contacts."
        ]
        if self.staff_created:
            lines.append(f"Staff created (password {self.staff_password}): {', '.join(self.staff_created)}")
        by_position = sorted(self.stages.items(), key=lambda item: (item[0].pipeline_id, item[0].position))
        lines.append(
            "Orders per stage: " + ", ".join(f"{stage.name} {count}" for stage, count in by_position)
        )
        if self.stopped_short:
            lines.append(
                f"{len(self.stopped_short)} orders stopped short of their planned stage, e.g. {self.stopped_short[0]}"
            )
        return "\n".join(lines)


def ensure_demo_staff(summary: DemoSummary) -> list[User]:
    """The demo manager and reps, created once; existing ones keep their password."""
    password = secrets.token_urlsafe(9)
    people = []
    for member in STAFF:
        user = User.objects.filter(email=member.email).first()
        if user is None:
            user = User.objects.create_user(
                member.email,
                password,
                full_name=member.name,
                is_staff=True,
                language=member.language,
                time_zone=member.time_zone,
            )
            user.groups.add(Group.objects.get(name=member.role))
            summary.staff_created.append(f"{member.email} ({member.role})")
            summary.staff_password = password
        people.append(user)
    return people


def create_contacts(count: int, rng: random.Random) -> list[Contact]:
    """People and companies (one in three) in three languages; about a third of the people work for a company."""
    with_email = CONTACTS_WITH_EMAIL if settings.MAIL_CATCHER else 0
    weights = [locale.weight for locale in LOCALES]
    companies: dict[str, list[Contact]] = {locale.language: [] for locale in LOCALES}
    contacts = []
    for index in range(count):
        locale = rng.choices(LOCALES, weights)[0]
        is_company = index % 3 == 1  # a fixed share, so even a small demo shows both kinds
        contact = Contact(
            kind=Contact.Kind.COMPANY if is_company else Contact.Kind.PERSON,
            name=locale.company_name(rng) if is_company else locale.person_name(rng),
            phone=locale.phone_format.format(rng.randrange(100)),
            language=locale.language,
            time_zone=rng.choice(locale.time_zones),
            preferred_channel=rng.choice([Contact.Channel.CALL, Contact.Channel.SMS, Contact.Channel.PORTAL]),
        )
        if index < with_email:
            contact.email = f"demo-client-{index + 1}@{DEMO_DOMAIN}"
            contact.preferred_channel = Contact.Channel.EMAIL
        if not is_company and companies[locale.language] and rng.random() < 0.35:
            contact.company = rng.choice(companies[locale.language])
        contact.full_clean()
        contact.save()
        if is_company:
            companies[locale.language].append(contact)
        contacts.append(contact)
    return contacts


@dataclass(frozen=True)
class DemoTeam:
    """Who opens and moves the demo orders, and which role each of them has."""

    manager: User
    reps: list[User]
    roles: dict[int, str]
    admin: User | None

    def actor_for(self, stage: Stage, owner: User, rng: random.Random) -> User | None:
        """The order's owner (now and then the manager), or someone the stage's roles let in.

        None, a rule, only when no demo person nor an administrator may set the stage.
        """
        usual = self.manager if rng.random() < 0.2 else owner
        allowed = set(stage.allowed_roles or [])
        if not allowed or self.roles.get(usual.pk) in allowed:
            return usual
        for person in [owner, self.manager, *self.reps]:
            if self.roles.get(person.pk) in allowed:
                return person
        return self.admin


@dataclass(frozen=True)
class PipelineShape:
    """A pipeline with what the demo needs of it, read once."""

    pipeline: Pipeline
    stages: list[Stage]
    fields: list[FieldDefinition]

    @property
    def main_path(self) -> list[Stage]:
        return [stage for stage in self.stages if not stage.is_side]

    @property
    def fields_known_at_start(self) -> list[FieldDefinition]:
        """Fields the order form would ask for: required ones and those no stage waits for."""
        later = {key for stage in self.stages for key in stage.required_fields or []}
        return [field for field in self.fields if field.is_required or field.key not in later]


def _may_enter(stage: Stage, current: Stage) -> bool:
    return not stage.allowed_from or current.key in stage.allowed_from


def plan_moves(shape: PipelineShape, target: Stage, rng: random.Random) -> list[Stage]:
    """The moves from the first main stage to `target`, as people would make them.

    Main stages are walked forward one by one, skipping closed ones and those the pipeline does not
    let in from where the order is; a side stage (on hold, cancelled) is reached from some open main
    stage; the web-design revision loop may repeat. A target that cannot be walked to is stopped short of.
    """
    main = shape.main_path
    if target.is_side:
        put_aside_in = rng.choice([stage for stage in main if not stage.is_closed] or main[:1])
        return [*plan_moves(shape, put_aside_in, rng), target]
    path: list[Stage] = []
    current = main[0]
    while current != target:
        ahead = main[main.index(current) + 1 : main.index(target) + 1]
        step = next(
            (
                stage
                for stage in ahead
                if (stage == target or not stage.is_closed) and _may_enter(stage, current)
            ),
            None,
        )
        if step is None:
            break
        path.append(step)
        current = step
    keys = [stage.key for stage in path]
    loop_start = _find_sequence(keys, REVISION_LOOP)
    if loop_start is not None and loop_start + len(REVISION_LOOP) < len(path):
        loop = path[loop_start : loop_start + len(REVISION_LOOP)]
        rounds = rng.choice([0, 0, 1, 1, 2])
        after = loop_start + len(REVISION_LOOP)
        path = path[:after] + loop * rounds + [loop[0]] + path[after:]
    return path


def _find_sequence(keys: list[str], sequence: tuple[str, ...]) -> int | None:
    for start in range(len(keys) - len(sequence) + 1):
        if tuple(keys[start : start + len(sequence)]) == sequence:
            return start
    return None


def choose_targets(shapes: Sequence[PipelineShape], count: int, rng: random.Random) -> list[Stage]:
    """Every stage of every pipeline once (as far as `count` allows), the rest weighted like a real board.

    More orders sit in open stages than were won, and few are on a side status.
    """
    every_stage = [stage for shape in shapes for stage in shape.stages]
    targets = every_stage[:count]
    weighted = [(stage, 0.35 if stage.is_side else 1.6 if stage.is_closed else 1.0) for stage in every_stage]
    population, weights = zip(*weighted, strict=True)
    targets += rng.choices(population, weights, k=count - len(targets))
    rng.shuffle(targets)
    return targets


def _timeline(moves: int, now: datetime, rng: random.Random) -> list[datetime]:
    """When the order was created and each move happened: days apart, all within HISTORY_DAYS."""
    gaps = [timedelta(days=rng.uniform(0.5, 12), minutes=rng.randrange(600)) for _ in range(moves)]
    idle = timedelta(days=rng.uniform(0.2, 30))
    span = sum(gaps, timedelta()) + idle
    limit = timedelta(days=HISTORY_DAYS)
    if span > limit:
        scale = limit / span
        gaps = [gap * scale for gap in gaps]
        idle *= scale
        span = limit
    moments = [now - span]
    for gap in gaps:
        moments.append(moments[-1] + gap)
    return moments


_CYRILLIC_TO_LATIN = str.maketrans(
    dict(
        zip(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
            ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
             "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
            strict=True,
        )
    )
)  # fmt: skip


def _domain_for(client: Contact) -> str:
    """The client's web address as an agency would register it: ASCII, words joined by hyphens."""
    latin = unicodedata.normalize("NFKD", client.name.lower().translate(_CYRILLIC_TO_LATIN))
    words = re.findall(r"[a-z0-9]+", latin.encode("ascii", "ignore").decode())
    tld = {"pt": "pt", "ru": "ru"}.get(client.language, "com")
    return f"{'-'.join(words) or 'client'}.{tld}"


def field_value(
    definition: FieldDefinition,
    *,
    client: Contact,
    moment: datetime,
    budget: Decimal,
    currency: str,
    rng: random.Random,
) -> Any:
    """A plausible value of `definition` for `client`, as staff would have entered it at `moment`."""
    kind = FieldDefinition.Kind
    domain = _domain_for(client)
    if definition.kind == kind.URL:
        return f"https://{domain}/"
    if definition.kind == kind.MONEY:
        return {"amount": str(budget), "currency": currency}
    if definition.kind == kind.NUMBER:
        return str(rng.randint(1, 40))
    if definition.kind == kind.DATE:
        return (moment + timedelta(days=rng.randint(7, 60))).date()
    if definition.kind == kind.CHOICE:
        return rng.choice(definition.choices) if definition.choices else None
    return domain if "domain" in definition.key else f"{definition.label}: {client.name}"


@dataclass
class _DatedTimeline:
    """The events an order gets, each with the moment it should appear to have happened."""

    order: Order
    dated: list[tuple[OrderEvent, datetime]] = field(default_factory=list)
    last_pk: int = 0

    def record(self, moment: datetime) -> None:
        """Date every event written since the last call at `moment` (services may write more than one)."""
        new = list(self.order.events.filter(pk__gt=self.last_pk).order_by("pk"))
        for event in new:
            self.dated.append((event, moment))
            self.last_pk = event.pk


def create_demo_order(
    shape: PipelineShape,
    *,
    target: Stage,
    client: Contact,
    owner: User,
    team: DemoTeam,
    rng: random.Random,
    now: datetime,
) -> tuple[Order, list[OrderEvent], str | None]:
    """One order, opened, filled in and moved through the services, then dated into the past.

    Returns the order, its timeline and, if a stage guard stopped it short of `target`, the guard's
    message. One transaction, so an interrupted demo leaves no half-made order behind.
    """
    moves = plan_moves(shape, target, rng)
    moments = _timeline(len(moves), now, rng)
    budget = Decimal(rng.randrange(800, 9000, 50))
    currency = shape.pipeline.currency

    def values(definitions: Sequence[FieldDefinition], moment: datetime) -> dict[str, Any]:
        found = {
            definition.key: field_value(
                definition, client=client, moment=moment, budget=budget, currency=currency, rng=rng
            )
            for definition in definitions
        }
        return {key: value for key, value in found.items() if value is not None}

    refusal = None
    with transaction.atomic():
        order = create_order(
            pipeline=shape.pipeline,
            client=client,
            title=rng.choice(TITLES).format(client=client.name),
            by=owner,
            owner=owner,
        )
        timeline = _DatedTimeline(order)
        timeline.record(moments[0])
        filled = values(shape.fields_known_at_start, moments[0])
        order = update_order(order, by=owner, value=budget, fields=filled)
        timeline.record(moments[0] + timedelta(minutes=rng.randint(5, 90)))
        for stage, moment in zip(moves, moments[1:], strict=True):
            missing = [
                definition
                for definition in shape.fields
                if definition.key in (stage.required_fields or []) and definition.key not in filled
            ]
            if missing:
                filled |= values(missing, moment)
                order = update_order(order, by=owner, fields=filled)
                timeline.record(moment - timedelta(minutes=rng.randint(10, 300)))
            reason = rng.choice(SIDE_REASONS.get(stage.category, ("",)))
            try:
                move_order(order, stage, by=team.actor_for(stage, owner, rng), reason=reason)
            except StageGuardError as error:
                refusal = error.message
                break
            timeline.record(moment)
        events = [event for event, _moment in timeline.dated]
        for event, moment in timeline.dated:
            event.created_at = moment
        OrderEvent.objects.bulk_update(events, ["created_at"])
        last = timeline.dated[-1][1]
        Order.objects.filter(pk=order.pk).update(
            created_at=moments[0], updated_at=last, stage_entered_at=last
        )
    return order, events, refusal


def create_demo_data(*, orders: int, seed: int, progress: bool = False) -> DemoSummary:
    """Add `orders` demo orders (and about a third as many contacts) to the database; returns what was made.

    The same seed gives the same names, stages and histories, relative to now. Running it again adds more.
    """
    rng = random.Random(seed)
    summary = DemoSummary()
    load_demo_process()
    staff = ensure_demo_staff(summary)
    roles = {user.pk: member.role for user, member in zip(staff, STAFF, strict=True)}
    team = DemoTeam(
        manager=next(user for user in staff if roles[user.pk] == Role.MANAGER),
        reps=[user for user in staff if roles[user.pk] == Role.REP],
        roles=roles,
        admin=User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first(),
    )
    shapes = [
        PipelineShape(
            pipeline=pipeline,
            stages=list(pipeline.stages.order_by("position", "id")),
            fields=list(pipeline.fields.order_by("position", "id")),
        )
        for pipeline in Pipeline.objects.filter(is_active=True).order_by("id")
    ]
    shapes = [shape for shape in shapes if shape.main_path]
    shape_of = {shape.pipeline.pk: shape for shape in shapes}
    contacts = create_contacts(max(1, round(orders / 3)), rng)
    summary.contacts = len(contacts)
    now = timezone.now()
    with tqdm(total=orders, desc="demo orders", unit="order", disable=not progress) as bar:
        for target in choose_targets(shapes, orders, rng):
            order, timeline, refusal = create_demo_order(
                shape_of[target.pipeline_id],
                target=target,
                client=rng.choice(contacts),
                owner=rng.choice(team.reps),
                team=team,
                rng=rng,
                now=now,
            )
            summary.orders += 1
            summary.events += len(timeline)
            summary.stages[order.stage] += 1
            if refusal is not None:
                summary.stopped_short.append(f"{order.reference}: {refusal}")
            bar.update()
    return summary
