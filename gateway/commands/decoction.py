"""`tracegate decoction fields | add | list | attach | attachment | export`: a batch's decoction
pieces record after seed 001 annex 1 (`docs/ebr.md`).

Records come from JSON or YAML files (one record, or a list recorded all or none), fields named
by their key or their Chinese name; `fields` prints them all. The user's password is read from
TRACEGATE_USER_PASSWORD, or asked for.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config.problems import format_problem
from config.yamlsource import read_yaml_file
from ebr.decoction.export import export_batch
from ebr.decoction.fields import SOURCE_FIELD, Field, FieldKind, Section
from ebr.decoction.record_types import SPECS, RecordType
from ebr.decoction.records import AttachmentInfo, DecoctionRecords, RecordView
from ebr.errors import StoreError
from ebr.users import Session, UserError, Users
from gateway.commands.common import fail, load_config
from gateway.commands.recall import PASSWORD_ENV
from gateway.site_store import SiteStore, open_site_store

TYPES = [kind.value for kind in RecordType]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "decoction", help="decoction pieces records of a batch (seed 001 annex 1)"
    )
    sub = parser.add_subparsers(dest="decoction_command", required=True)

    fields = sub.add_parser("fields", help="the annex's fields: names, basic or extended, format")
    fields.add_argument("type", nargs="?", choices=TYPES, help="one kind of record only")
    fields.set_defaults(run=run_fields)

    add = sub.add_parser(
        "add",
        help="record one record, or a list of them, from a JSON or YAML file",
        description="A list in the file is recorded all or none. With --corrects the file "
        "holds the new version of that record, recorded with --reason.",
    )
    add.add_argument("type", choices=TYPES, help="the kind of record")
    _site_arguments(add, batch=True)
    add.add_argument("--file", type=Path, required=True, help="the record(s), JSON or YAML")
    add.add_argument("--user", required=True, help="who records it")
    add.add_argument("--corrects", type=int, help="the id of the record this one corrects")
    add.add_argument("--reason", help="why the record is corrected (with --corrects)")
    add.set_defaults(run=run_add)

    listing = sub.add_parser("list", help="the batch's current records and its attachments")
    _site_arguments(listing, batch=True)
    listing.add_argument("--type", choices=TYPES, help="one kind of record only")
    listing.add_argument("--history", action="store_true", help="also superseded versions")
    listing.set_defaults(run=run_list)

    attach = sub.add_parser("attach", help="attach JPG, DOCX or PDF files to a file field")
    _site_arguments(attach, batch=True)
    attach.add_argument("--field", required=True, help="the file field, e.g. origin_photos")
    attach.add_argument("--source", type=int, help="the herb source a source field documents")
    attach.add_argument("--user", required=True, help="who attaches them")
    attach.add_argument("files", type=Path, nargs="+", help="the files")
    attach.set_defaults(run=run_attach)

    content = sub.add_parser("attachment", help="write an attachment out, its hash checked")
    _site_arguments(content, batch=False)
    content.add_argument("--id", type=int, required=True, help="the attachment's id")
    content.add_argument("--out", type=Path, required=True, help="the file to write")
    content.set_defaults(run=run_attachment)

    export = sub.add_parser("export", help="the batch's whole decoction record as JSON")
    _site_arguments(export, batch=True)
    export.add_argument("--out", type=Path, help="the JSON file (default: standard output)")
    export.set_defaults(run=run_export)


def _site_arguments(parser: argparse.ArgumentParser, *, batch: bool) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the site file")
    if batch:
        parser.add_argument("--batch", type=int, required=True, help="the batch id")


@contextmanager
def _records(args: argparse.Namespace) -> Iterator[tuple[SiteStore, DecoctionRecords]]:
    store = open_site_store(load_config(args.config))
    try:
        yield store, DecoctionRecords(store.engine, store.audit)
    finally:
        store.close()


@contextmanager
def _session(store: SiteStore, username: str) -> Iterator[Session]:
    users = Users(store.audit)
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"password for {username}: ")
    try:
        session = users.login(username, password)
    except UserError as error:
        fail(f"{username!r} cannot log in: {error.message}", hint=error.hint)
    try:
        yield session
    finally:
        users.logout(session)


def run_fields(args: argparse.Namespace) -> int:
    kinds = [RecordType(args.type)] if args.type else list(RecordType)
    for kind in kinds:
        if kind is RecordType.HERB_SOURCE:
            print(f"{kind.value}: every herb source says where its herbs came from")
            _print_field(SOURCE_FIELD, "  ", top=True)
            print()
        for section in SPECS[kind].sections:
            _print_section(kind, section)
    return 0


def run_add(args: argparse.Namespace) -> int:
    kind = RecordType(args.type)
    payloads = _read_records(args.file)
    if args.corrects is not None and len(payloads) != 1:
        fail(
            f"{args.file} holds {len(payloads)} records; a correction is one record",
            hint="put the corrected record alone in the file",
        )
    if args.corrects is None and args.reason is not None:
        fail("--reason is for corrections", hint="name the corrected record with --corrects")
    with _records(args) as (store, records), _session(store, args.user) as user:
        if args.corrects is not None:
            views = [
                records.correct(user, kind, args.corrects, payloads[0], reason=args.reason or "")
            ]
        else:
            views = records.add_many(user, args.batch, kind, payloads)
    for view in views:
        corrects = f" (corrects {view.supersedes})" if view.supersedes is not None else ""
        print(f"recorded {kind.value} {view.id}{corrects}: {_summary(view)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    kinds = [RecordType(args.type)] if args.type else list(RecordType)
    with _records(args) as (_store, records):
        listed = {kind: records.records(args.batch, kind, history=args.history) for kind in kinds}
        attachments = records.attachments(args.batch) if args.type is None else []
    for views in listed.values():
        for view in views:
            print(_line(view))
    for info in attachments:
        print(_attachment_line(info))
    return 0


def run_attach(args: argparse.Namespace) -> int:
    files = [(path, _read_bytes(path)) for path in args.files]
    with _records(args) as (store, records), _session(store, args.user) as user:
        for done, (path, content) in enumerate(files):
            try:
                info = records.attach(
                    user, args.batch, args.field, path.name, content, herb_source_id=args.source
                )
            except StoreError:
                if done:
                    print(f"{done} of {len(files)} files were attached before {path}")
                raise
            print(_attachment_line(info))
    return 0


def run_attachment(args: argparse.Namespace) -> int:
    with _records(args) as (_store, records):
        info, content = records.attachment_content(args.id)
    try:
        args.out.write_bytes(content)
    except OSError as error:
        fail(f"cannot write {args.out}: {error.strerror}", hint="check the folder and its rights")
    print(f"wrote {args.out} ({info.size} bytes, SHA-256 {info.sha256} verified)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    with _records(args) as (_store, records):
        document = export_batch(records, args.batch)
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {args.out}: {error.strerror}", hint="check the folder")
        state = "complete" if document["complete"] else f"{len(document['missing'])} missing"
        print(f"wrote {args.out}: batch {args.batch}, {state}")
    return 0


def _read_records(path: Path) -> list[object]:
    if path.suffix.casefold() == ".json":
        data = _read_json(path)
    else:
        document = read_yaml_file(path)
        if document.problems:
            for problem in document.problems:
                print(format_problem(problem, str(path)), file=sys.stderr)
            fail(f"{path} cannot be read", hint="correct the file; nothing was recorded")
        data = document.data
    records = data if isinstance(data, list) else [data]
    if not records or data is None:
        fail(f"{path} holds no record", hint="write one record, or a list of records")
    return records


def _read_json(path: Path) -> object:
    try:
        return json.loads(_read_bytes(path).decode("utf-8"))
    except UnicodeDecodeError as error:
        fail(f"{path}: not UTF-8 ({error.reason} at byte {error.start})", hint="save as UTF-8")
    except json.JSONDecodeError as error:
        fail(
            f"{path}:{error.lineno}:{error.colno}: not JSON: {error.msg}",
            hint="correct the file; nothing was recorded",
        )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        fail(f"{path}: no such file", hint="give the path of an existing file")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}", hint="check the file and its rights")


def _print_section(kind: RecordType, section: Section) -> None:
    print(f"{kind.value} · {section.key}: {section.zh} ({section.en}) [{section.origin}]")
    for field in section.fields:
        _print_field(field, "  ", top=True)
    print()


def _print_field(field: Field, indent: str, *, top: bool) -> None:
    """A section's own fields are basic or extended; a group's parts are required or not
    when the group is given."""
    if top:
        need = "必填 basic" if field.required else "选填 extended"
    else:
        need = "required" if field.required else "optional"
    if field.required_when is not None:
        when = f"{field.required_when.field} is {'/'.join(field.required_when.values)}"
        need = f"{'必填 ' if top else ''}required when {when}"
    shape = _shape(field)
    requirement = f"  — {field.requirement}" if field.requirement else ""
    print(f"{indent}{field.key} {field.zh} ({field.en}): {need}, {shape}{requirement}")
    for part in field.parts:
        _print_field(part, indent + "    ", top=False)


def _shape(field: Field) -> str:
    if field.kind is FieldKind.TEXT:
        return f"text ≤{field.max_length}" + (f" {field.text_format}" if field.text_format else "")
    if field.kind is FieldKind.CHOICE:
        return "one of " + ", ".join(choice.label for choice in field.choices)
    if field.kind is FieldKind.ATTACHMENT and field.attachment is not None:
        kinds = "/".join(media.name for media in field.attachment.media)
        return f"file {kinds} ≤{field.attachment.max_bytes} bytes (tracegate decoction attach)"
    if field.kind is FieldKind.RECORDS:
        return f"kept as {field.kept_in} records"
    if field.kept_in == "batch":
        return "the batch's lot"
    return field.kind.value + (f" ({field.unit})" if field.unit else "")


SUMMARIES: dict[RecordType, Callable[[dict[str, Any]], str]] = {
    RecordType.PRODUCTION: lambda v: f"{v['product_name']}, made {v['production_date']}",
    RecordType.HERB_SOURCE: lambda v: f"{v['source']} {v['herb_name']} {v['herb_specification']}",
    RecordType.PROCESS_STEP: lambda v: " ".join(
        str(part)
        for part in (v["kind"], v.get("method", ""), v["operator"], v["started_at"])
        if part
    ),
    RecordType.INSPECTION: lambda v: (
        f"{v['conclusion']} ({v['standard']}), report {v['report_number']}, "
        f"{v['inspector']['name']}, {v['inspected_on']}"
    ),
    RecordType.SALE: lambda v: (
        f"{v['sold_on']} {v['destination']} {v['customer']['name']} "
        f"{v['quantity']['value']} {v['quantity']['unit']}"
    ),
    RecordType.RECALL: lambda v: f"{v['recalled_on']} {v['product']}: {v['reason']}",
}


def _summary(view: RecordView) -> str:
    return SUMMARIES[view.type](view.values)


def _line(view: RecordView) -> str:
    notes = []
    if view.supersedes is not None:
        notes.append(f"corrects {view.supersedes}: {view.reason}")
    if view.superseded_by is not None:
        notes.append(f"superseded by {view.superseded_by}")
    note = f" [{'; '.join(notes)}]" if notes else ""
    who = f"{view.recorded_by}, {view.recorded_at}"
    return f"{view.type.value:<13} {view.id:>6}  {_summary(view)}  ({who}){note}"


def _attachment_line(info: AttachmentInfo) -> str:
    source = f" herb source {info.herb_source_id}" if info.herb_source_id is not None else ""
    return (
        f"{'attachment':<13} {info.id:>6}  {info.field}{source}: {info.filename} "
        f"({info.media_type}, {info.size} bytes, SHA-256 {info.sha256})"
    )
