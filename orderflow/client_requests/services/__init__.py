"""Every write to forms, client requests and their answers goes through these functions.

Split by topic: forms (definitions and versions), sending (requests, links), answering (autosave, submit).
"""

from orderflow.client_requests.services.answering import (
    SubmissionIncomplete,
    add_files,
    note_opened,
    remove_file,
    save_answer,
    submit_request,
)
from orderflow.client_requests.services.forms import (
    add_question,
    create_form,
    install_starter_forms,
    is_version_frozen,
    own_form_for_request,
    remove_question,
    reorder_questions,
    replace_question,
    save_as_template,
    save_definition,
    save_moves,
    shift_question,
)
from orderflow.client_requests.services.sending import (
    LINK_DAYS,
    RecipientSpec,
    RequestClosedError,
    RequestError,
    cancel_request,
    link_for,
    reopen_request,
    resend_request,
    revoke_recipient,
    send_request,
    update_request,
)

__all__ = [
    "LINK_DAYS",
    "RecipientSpec",
    "RequestClosedError",
    "RequestError",
    "SubmissionIncomplete",
    "add_files",
    "add_question",
    "cancel_request",
    "create_form",
    "install_starter_forms",
    "is_version_frozen",
    "link_for",
    "note_opened",
    "own_form_for_request",
    "remove_file",
    "remove_question",
    "reopen_request",
    "reorder_questions",
    "replace_question",
    "resend_request",
    "revoke_recipient",
    "save_answer",
    "save_as_template",
    "save_definition",
    "save_moves",
    "send_request",
    "shift_question",
    "submit_request",
    "update_request",
]
