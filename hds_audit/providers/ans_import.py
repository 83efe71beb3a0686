"""Refresh the registry from the ANS list of certified hosts saved as CSV.

The ANS publishes its « liste des hébergeurs certifiés » on esante.gouv.fr; its column
layout is not documented, so columns are matched by name (accents, case and punctuation
ignored) against the aliases below, or mapped explicitly (``--column "Nom=host"``). Each row
is validated; a malformed row stops the import with ``file:line: problem``. Rows update the
host they name (matched on key, name or legal entity); an unmatched row adds a host with no
provider key. What changes is returned as a diff for the caller to show before writing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from hds_audit.datafile import DataFileError
from hds_audit.providers.registry import FACTS, Fact, Host, Registry, Source

ANS_SOURCE_URL: Final = "https://esante.gouv.fr/offres-services/hds/liste-des-hebergeurs-certifies"

#: Registry field -> header aliases (normalised: lower case, no accents, words joined by _).
ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "host": ("host", "hebergeur", "raison_sociale", "nom", "nom_de_l_hebergeur", "societe"),
    "legal_entity": ("legal_entity", "entite_juridique", "raison_sociale_du_titulaire"),
    "certificate_number": (
        "certificate_number",
        "numero_de_certificat",
        "n_de_certificat",
        "no_certificat",
        "numero_certificat",
        "certificat",
    ),
    "certifying_body": ("certifying_body", "organisme_certificateur", "certificateur"),
    "activities": ("activities", "activites", "activites_certifiees", "perimetre"),
    "issued": ("issued", "date_de_delivrance", "date_de_certification", "date_d_obtention"),
    "expires": (
        "expires",
        "date_d_expiration",
        "date_de_fin_de_validite",
        "fin_de_validite",
        "date_d_echeance",
    ),
    "referential": ("referential", "referentiel", "version_du_referentiel"),
    "transfer_map_url": (
        "transfer_map_url",
        "cartographie",
        "lien_cartographie",
        "url_cartographie",
    ),
}
FIELDS: Final = tuple(ALIASES)


def normalise_header(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


@dataclass(frozen=True, slots=True)
class Change:
    host: str
    fact: str
    before: Any
    after: Any

    def line(self) -> str:
        return f"  {self.host}: {self.fact}: {_show(self.before)} -> {_show(self.after)}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    registry: Registry
    changes: tuple[Change, ...]
    added: tuple[str, ...]
    rows: int
    not_in_list: tuple[str, ...]

    def diff_lines(self) -> list[str]:
        lines = [f"+ new host {key}" for key in self.added]
        lines += [change.line() for change in self.changes]
        return lines


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataFileError(str(path), None, "not UTF-8 or Windows-1252 text")


def _parse_date(value: str, file: str, line: int, column: str) -> str:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    raise DataFileError(
        file, line, f"column {column!r}: {value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)"
    )


def _parse_activities(value: str, file: str, line: int, column: str) -> tuple[int, ...]:
    found: set[int] = set()
    ranges = re.sub(r"(\d)\s*(?:-|à|a|to)\s*(\d)", r"\1-\2", value)
    for part in re.split(r"[,;/ ]+|\bet\b|\band\b", ranges):
        part = part.strip()
        if not part:
            continue
        if m := re.fullmatch(r"(\d)-(\d)", part):
            low, high = int(m.group(1)), int(m.group(2))
            found.update(range(low, high + 1))
        elif part.isdigit():
            found.add(int(part))
        else:
            raise DataFileError(
                file, line, f"column {column!r}: {value!r} is not a list of activities 1 to 6"
            )
    if not found or not found <= set(range(1, 7)):
        raise DataFileError(
            file, line, f"column {column!r}: activities must be 1 to 6, got {value!r}"
        )
    return tuple(sorted(found))


def _columns(header: Sequence[str], explicit: Mapping[str, str], file: str) -> dict[str, int]:
    wanted: dict[str, int] = {}
    normalised = [normalise_header(h) for h in header]
    for column, field in explicit.items():
        if field not in FIELDS:
            raise DataFileError(
                file, 1, f"--column {column}={field}: field must be one of {', '.join(FIELDS)}"
            )
        if column not in header:
            raise DataFileError(
                file, 1, f"--column {column}={field}: no column {column!r} in the header"
            )
        wanted[field] = header.index(column)
    for index, name in enumerate(normalised):
        for field, aliases in ALIASES.items():
            if field not in wanted and name in aliases and index not in wanted.values():
                wanted[field] = index
    if "host" not in wanted:
        raise DataFileError(
            file,
            1,
            "no host column: name it Hébergeur or Raison sociale, or map it with "
            f'--column "COLUMN=host" (columns: {", ".join(header)})',
        )
    return wanted


def _match(registry: Registry, hosts: list[Host], name: str) -> int | None:
    wanted = normalise_header(name)
    for index, host in enumerate(hosts):
        entity = host.facts["legal_entity"].value if host.facts["legal_entity"].known else ""
        names = {
            normalise_header(host.key),
            normalise_header(host.name),
            normalise_header(str(entity)),
        }
        if wanted in names or any(
            n and (wanted.startswith(n) or n.startswith(wanted)) for n in names if len(n) > 3
        ):
            return index
    return None


def import_csv(
    registry: Registry,
    path: Path,
    *,
    columns: Mapping[str, str] | None = None,
    today: date | None = None,
) -> ImportResult:
    """A new registry with the CSV's facts applied, and what changed (nothing is written)."""
    file = str(path)
    try:
        text = _read_text(path)
    except OSError as error:
        raise DataFileError(file, None, f"cannot be read: {error.strerror}") from None
    if not text.strip():
        raise DataFileError(file, None, "empty file")
    try:
        dialect: Any = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [h.strip() for h in next(reader)]
    wanted = _columns(header, columns or {}, file)
    when = (today or date.today()).isoformat()
    source_key = f"ANS-{when}"
    sources = dict(registry.sources)
    sources[source_key] = Source(
        source_key, ANS_SOURCE_URL, f"ANS list of certified hosts, imported from {path.name}", when
    )
    hosts = list(registry.hosts)
    changes: list[Change] = []
    added: list[str] = []
    touched: set[str] = set()
    rows = 0
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataFileError(file, line, f"{len(row)} columns, the header has {len(header)}")
        rows += 1
        cells = {field: row[index].strip() for field, index in wanted.items()}
        name = cells.pop("host")
        if not name:
            raise DataFileError(file, line, f"empty host name (column {header[wanted['host']]!r})")
        updates: dict[str, Any] = {"certificate_status": "certified"}
        for field, value in cells.items():
            if not value:
                continue
            column = header[wanted[field]]
            if field in ("issued", "expires"):
                updates[field] = _parse_date(value, file, line, column)
            elif field == "activities":
                updates[field] = _parse_activities(value, file, line, column)
            elif field == "transfer_map_url" and not value.startswith(("https://", "http://")):
                raise DataFileError(file, line, f"column {column!r}: {value!r} is not a URL")
            else:
                updates[field] = value
        if "issued" in updates and "expires" in updates and updates["expires"] < updates["issued"]:
            raise DataFileError(
                file, line, f"expiry {updates['expires']} is before issue {updates['issued']}"
            )
        index = _match(registry, hosts, name)
        if index is None:
            key = normalise_header(name).replace("_", "-") or f"host-{line}"
            facts = {f: Fact("unknown", source_key, note="not in the ANS list row") for f in FACTS}
            host = Host(key, name, (), facts)
            hosts.append(host)
            index = len(hosts) - 1
            added.append(key)
        host = hosts[index]
        touched.add(host.key)
        facts = dict(host.facts)
        for field, value in updates.items():
            before = facts[field].value
            if before != value:
                if host.key not in added:
                    changes.append(Change(host.key, field, before, value))
                facts[field] = Fact(value, source_key, when)
        hosts[index] = replace(host, facts=facts)
    new = Registry(
        file=registry.file,
        version=when,
        recorded=when,
        hosts=tuple(hosts),
        sources=sources,
        by_provider={p: h for h in hosts for p in h.providers},
    )
    return ImportResult(
        registry=new,
        changes=tuple(changes),
        added=tuple(added),
        rows=rows,
        not_in_list=tuple(h.key for h in registry.hosts if h.key not in touched),
    )


# --------------------------------------------------------------------------- writing


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"' if text != "unknown" else "unknown"


def dump_registry(registry: Registry, header: str = "") -> str:
    """The registry as YAML, in the layout of the shipped file (one fact per line)."""
    out = [header.rstrip("\n")] if header.strip() else []
    out.append(f'version: "{registry.version}"')
    out.append(f'recorded: "{registry.recorded}"')
    out.append("")
    out.append("sources:")
    for key, source in registry.sources.items():
        parts = [f"url: {_scalar(source.url)}", f"title: {_scalar(source.title)}"]
        if source.date:
            parts.append(f"date: {_scalar(source.date)}")
        out.append(f"  {key}: {{{', '.join(parts)}}}")
    out.append("")
    out.append("hosts:")
    for host in registry.hosts:
        out.append(f"  - key: {host.key}")
        out.append(f"    name: {_scalar(host.name)}")
        out.append(f"    providers: [{', '.join(host.providers)}]")
        out.append("    facts:")
        for name in FACTS:
            fact = host.facts[name]
            parts = [f"value: {_scalar(fact.value)}", f"source: {fact.source}"]
            if fact.date:
                parts.append(f"date: {_scalar(fact.date)}")
            if fact.note:
                parts.append(f"note: {_scalar(fact.note)}")
            out.append(f"      {name}: {{{', '.join(parts)}}}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def leading_comments(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            lines.append(line)
        else:
            break
    return "\n".join(lines)
