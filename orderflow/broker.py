"""The broker of one-machine set-ups: kombu's filesystem transport, with messages written atomically.

kombu's own filesystem transport creates a message's file under its final name and only then writes
it, so a worker polling at that moment claims an empty file, fails to decode it and stops
("Unrecoverable error: JSONDecodeError"), and the message is lost. Here a message is written under a
name no consumer looks at and renamed into place when complete; a rename within one folder is atomic,
so a worker sees a whole message or none. `use_atomic_filesystem_transport()` (called by the Celery
app) makes every `filesystem://` URL in the process mean this transport, so whatever sets the URL
(settings, a test, an operator) needs nothing else.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# Consumers take only files named `<…>.<queue>.msg`; a file being written ends in this instead.
PARTIAL_SUFFIX = ".partial"


class FilesystemChannel(filesystem.Channel):
    # The stubs of kombu's base and filesystem channels disagree on this signature; kombu's own is kept.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """Put `payload` on `queue`: written under a partial name, renamed when complete."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel


def use_atomic_filesystem_transport() -> None:
    """Make the `filesystem://` scheme mean FilesystemTransport in this process."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:FilesystemTransport"
