"""`orderflow process_template`: list the shipped process templates, export a pipeline, import a template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orderflow.pipelines.models import Pipeline
from orderflow.pipelines.process_io import (
    ProcessTemplateError,
    command_line_rename_hints,
    export_process_template,
    import_process_template,
    shipped_template_path,
    shipped_templates,
)


class Command(BaseCommand):
    help = (
        "Process templates: a pipeline with its custom fields and stages as YAML. "
        "`list` shows the templates that ship with Orderflow, `export <slug>` writes a pipeline as a "
        "template, `import <file>` creates a pipeline from one (a shipped template may be named "
        "without its folder, e.g. `import repair`). A refused import lists every problem with its "
        "line and imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,export,import}")
        actions.add_parser("list", help="the templates that ship with Orderflow")
        export = actions.add_parser("export", help="write a pipeline as a process template")
        export.add_argument("slug", help="the pipeline's short name, e.g. website")
        export.add_argument(
            "-o", "--output", metavar="FILE", help="write to FILE (UTF-8) instead of standard output"
        )
        load = actions.add_parser("import", help="create a pipeline from a process template")
        load.add_argument("file", help="a YAML file, or the name of a shipped template (see `list`)")
        load.add_argument("--slug", help="import under this short name instead of the template's")
        load.add_argument(
            "--prefix", dest="number_prefix", metavar="PREFIX", help="number orders with this prefix instead"
        )
        load.add_argument("--name", help="call the pipeline this instead")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self.list_shipped()
        elif action == "export":
            self.export(options["slug"], output=options["output"])
        else:
            self.import_file(
                options["file"],
                slug=options["slug"],
                number_prefix=options["number_prefix"],
                name=options["name"],
            )

    def list_shipped(self) -> None:
        installed = set(Pipeline.objects.values_list("slug", flat=True))
        for template in shipped_templates():
            state = "imported" if template.slug in installed else ""
            self.stdout.write(
                f"{template.path.stem:<24} {template.name:<28} slug {template.slug:<24} "
                f"prefix {template.number_prefix:<6} {template.stage_count:>2} stages "
                f"{template.field_count:>2} fields  {state}".rstrip()
            )

    def export(self, slug: str, *, output: str | None) -> None:
        pipeline = Pipeline.objects.filter(slug=slug).first()
        if pipeline is None:
            known = ", ".join(Pipeline.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"There is no pipeline with the slug {slug!r}; pipelines: {known}.")
        text = export_process_template(pipeline)
        if output is None:
            self.stdout.write(text, ending="")
            return
        Path(output).write_text(text, encoding="utf-8", newline="")
        self.stderr.write(f"Wrote “{pipeline.name}” to {output}.")

    def import_file(
        self, file: str, *, slug: str | None, number_prefix: str | None, name: str | None
    ) -> None:
        path = Path(file)
        if not path.is_file():
            shipped = shipped_template_path(file)
            if shipped is None:
                raise CommandError(
                    f"No file {file!r}, and no shipped template by that name (see `process_template list`)."
                )
            path = shipped
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        try:
            pipeline = import_process_template(
                text,
                slug=slug,
                number_prefix=number_prefix,
                name=name,
                rename_hints=command_line_rename_hints(),
            )
        except ProcessTemplateError as error:
            raise CommandError(f"{path}: {error}") from None
        self.stdout.write(
            f"Imported “{pipeline.name}” (slug {pipeline.slug}, orders {pipeline.number_prefix}-00001 …): "
            f"{pipeline.stages.count()} stages, {pipeline.fields.count()} fields."
        )
