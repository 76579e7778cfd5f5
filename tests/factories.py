"""factory-boy factories that arrange test data through the same services the product uses.

Pipelines come from the shipped web-design process template, orders from `create_order`, so a test
sees the stages, numbers and timeline a real installation would have.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, TypeVar

import factory
import yaml
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from orderflow.accounts.models import Contact, User
from orderflow.accounts.roles import Role
from orderflow.pipelines.models import Order, Pipeline, Stage
from orderflow.pipelines.process_io import DEMO_TEMPLATE, import_process_template
from orderflow.pipelines.services import create_order

TEST_PASSWORD = "Correct-horse-battery-9"

_Model = TypeVar("_Model")


class ModelFactory(DjangoModelFactory[_Model]):
    """Base of our factories: tells mypy that calling a factory returns the model, as it does at run time."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> _Model: ...  # type: ignore[misc]


class UserFactory(ModelFactory[User]):
    """A user with a role: `UserFactory(role=Role.CLIENT)`; default a rep. `role=None` gives none.

    Staff roles are staff users. Everyone's password is TEST_PASSWORD unless `password=` is given.
    """

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Sequence(lambda n: f"Person {n}")

    @classmethod
    def _create(
        cls,
        model_class: type[User],
        *args: Any,
        role: str | None = Role.REP,
        password: str = TEST_PASSWORD,
        **kwargs: Any,
    ) -> User:
        kwargs.setdefault("is_staff", role in Role.STAFF)
        user = model_class.objects.create_user(password=password, **kwargs)
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        return user


class ContactFactory(ModelFactory[Contact]):
    """A client person with an e-mail address, English-speaking unless `language=` says otherwise."""

    class Meta:
        model = Contact

    kind = Contact.Kind.PERSON
    name = factory.Sequence(lambda n: f"Client {n}")
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    language = "en"


class PipelineFactory(ModelFactory[Pipeline]):
    """The web-design process (seed 000) imported from its YAML template, stages included.

    The first pipeline of a test is the template's own ("website", numbers WEB-00001 …); further ones
    get their own slug and prefix (WEB2, WEB3 …) unless given `slug=`, `number_prefix=`, `name=`.
    The template's rules and reminders are left out unless `automation=True`, so a test sees only
    the automation it sets up itself.
    """

    class Meta:
        model = Pipeline

    @classmethod
    def _create(cls, model_class: type[Pipeline], *args: Any, **kwargs: Any) -> Pipeline:
        document = yaml.safe_load(DEMO_TEMPLATE.read_text(encoding="utf-8"))
        head = document["pipeline"]
        taken = (
            Pipeline.objects.filter(slug=head["slug"]).exists()
            or Pipeline.objects.filter(number_prefix=head["number_prefix"]).exists()
        )
        if taken:
            for n in itertools.count(2):
                slug, prefix = f"{head['slug']}-{n}", f"{head['number_prefix']}{n}"
                if (
                    not Pipeline.objects.filter(slug=slug).exists()
                    and not Pipeline.objects.filter(number_prefix=prefix).exists()
                ):
                    head.update(slug=slug, number_prefix=prefix, name=f"{head['name']} {n}")
                    break
        head.update({key: kwargs.pop(key) for key in ("slug", "number_prefix", "name") if key in kwargs})
        if not kwargs.pop("automation", False):
            document.pop("rules", None)
            document.pop("reminders", None)
        if kwargs:
            raise TypeError(f"PipelineFactory does not set {sorted(kwargs)}")
        return import_process_template(yaml.safe_dump(document, allow_unicode=True))


class OrderFactory(ModelFactory[Order]):
    """An order opened with `create_order` (so it has a number and a "created" event).

    `stage=` takes a Stage or a stage key of the pipeline; `by=` is the acting user (default None,
    meaning a rule); `owner=` defaults to `by`.
    """

    class Meta:
        model = Order

    pipeline = factory.SubFactory(PipelineFactory)
    client = factory.SubFactory(ContactFactory)
    title = factory.Sequence(lambda n: f"Website for shop {n}")

    @classmethod
    def _create(
        cls,
        model_class: type[Order],
        *args: Any,
        by: User | None = None,
        owner: User | None = None,
        stage: Stage | str | None = None,
        **kwargs: Any,
    ) -> Order:
        pipeline: Pipeline = kwargs["pipeline"]
        if isinstance(stage, str):
            stage = pipeline.stages.get(key=stage)
        return create_order(
            pipeline=pipeline, client=kwargs["client"], title=kwargs["title"], by=by, owner=owner, stage=stage
        )
