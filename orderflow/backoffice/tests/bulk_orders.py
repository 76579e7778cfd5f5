"""Many orders at once for the board and list tests: bulk_create, no services, no timeline (speed only)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone

from orderflow.accounts.models import Contact, User
from orderflow.pipelines.models import Order, Pipeline, Tag


def bulk_orders(
    pipeline: Pipeline,
    count: int,
    *,
    owners: Sequence[User | None] = (None,),
    tags: Sequence[Tag] = (),
    clients: int = 25,
    value: Decimal = Decimal("100.00"),
) -> list[Order]:
    """`count` orders spread over every stage of `pipeline`, each with a client, owner, value and due date.

    Numbers continue the pipeline's sequence; each order enters its stage a minute before the one
    made after it, so "newest first" is well defined. Returns the orders with their ids.
    """
    if count <= 0:
        return []
    stages = list(pipeline.stages.order_by("is_side", "position", "id"))
    contacts = Contact.objects.bulk_create(
        [Contact(name=f"Bulk client {n}", email=f"bulk{n}@example.com") for n in range(min(clients, count))]
    )
    pipeline.refresh_from_db(fields=["last_number"])
    first = pipeline.last_number + 1
    now = timezone.now()
    today = timezone.localdate()
    orders = Order.objects.bulk_create(
        [
            Order(
                pipeline=pipeline,
                number=first + n,
                title=f"Bulk order {n}",
                stage=stages[n % len(stages)],
                client=contacts[n % len(contacts)],
                owner=owners[n % len(owners)],
                value=value,
                due_date=today + datetime.timedelta(days=(n % 40) - 10),
                fields={"domain": f"bulk-{n}.example"},
                stage_entered_at=now - datetime.timedelta(minutes=count - n),
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    Pipeline.objects.filter(pk=pipeline.pk).update(last_number=first + count - 1)
    pipeline.last_number = first + count - 1
    if tags:
        through = Order.tags.through
        through.objects.bulk_create(
            [through(order_id=order.pk, tag_id=tags[n % len(tags)].pk) for n, order in enumerate(orders)],
            batch_size=2000,
        )
    return orders
