"""A request's answers as CSV and PDF files for staff. Answers are written as plain text, never markup."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from orderflow.client_requests.models import ClientRequest
from orderflow.client_requests.selectors import answer_rows

# A Unicode font for Portuguese and Russian answers; without it, the PDF falls back to Latin-1.
UNICODE_FONTS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Spreadsheet-safe: a value that would start a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def request_csv(request: ClientRequest) -> str:
    """Question and answer per row (files by name), for opening in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Question"), _("Answer")])
    for row in answer_rows(request):
        text = ", ".join(f.original_name for f in row.files) if row.is_file else row.text
        writer.writerow([_cell(row.question["label"]), _cell(text)])
    return buffer.getvalue()


def request_pdf(request: ClientRequest) -> bytes:
    """The answers on A4 pages: title, order, when answered, then each question and its answer."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    font = next((path for path in UNICODE_FONTS if path.exists()), None)
    if font is not None:
        pdf.add_font("Body", "", str(font))
        family = "Body"

        def clean(text: str) -> str:
            return text

    else:
        family = "Helvetica"

        def clean(text: str) -> str:
            return text.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(family, size=16)
    pdf.multi_cell(width, 9, clean(request.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    answered = request.submitted_at or timezone.now()
    pdf.multi_cell(
        width,
        5,
        clean(
            _("%(reference)s · answered %(when)s")
            % {
                "reference": request.order.reference,
                "when": timezone.localtime(answered).strftime("%Y-%m-%d %H:%M"),
            }
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    for row in answer_rows(request):
        pdf.set_font(family, size=10)
        pdf.set_text_color(90, 102, 117)
        pdf.multi_cell(width, 5, clean(row.question["label"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(27, 36, 48)
        pdf.set_font(family, size=11)
        text = ", ".join(f.original_name for f in row.files) if row.is_file else row.text
        pdf.multi_cell(width, 6, clean(text or "—"), new_x="LMARGIN", new_y="NEXT", markdown=False)
        pdf.ln(3)
    return bytes(pdf.output())
