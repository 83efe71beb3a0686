"""The message catalogue: complete in every language, every key used in code defined, and a
Msg that is its English text wherever it goes (pickled to a Dask worker, written as JSON)."""

from __future__ import annotations

import json
import pickle
from datetime import date
from pathlib import Path

import pytest

from hds_audit.errors import unreachable_reason
from hds_audit.frameworks import MODES
from hds_audit.i18n import (
    LANGS,
    MSG_CALL,
    Msg,
    Quote,
    format_date,
    from_data,
    join,
    messages,
    placeholders,
    to_data,
)
from hds_audit.i18n import render as render_msg
from hds_audit.providers.facts import HostScope
from hds_audit.testing import run_cli

PACKAGE = Path(__file__).resolve().parents[2] / "hds_audit"


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_every_language_has_every_key_with_the_same_placeholders(lang: str) -> None:
    english, other = messages("en"), messages(lang)
    assert sorted(set(english) - set(other)) == [], f"missing in {lang}"
    assert sorted(set(other) - set(english)) == [], f"only in {lang}"
    differ = [k for k in english if placeholders(english[k]) != placeholders(other[k])]
    assert differ == []


def test_every_key_used_in_code_exists() -> None:
    used: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        for key in MSG_CALL.findall(path.read_text(encoding="utf-8")):
            used[key] = str(path.relative_to(PACKAGE))
    # Keys built at run time (Msg(f"host.fact_unknown.{fact}") ...).
    for fact in ("certificate_status", "expires", "activities", "secnumcloud", "extra_eu_law"):
        used[f"host.fact_unknown.{fact}"] = "providers/facts.py"
    for need in ("backup", "storage"):
        used[f"host.activities_missing.{need}"] = "providers/facts.py"
    assert len(used) > 30
    missing = {k: where for k, where in used.items() if k not in messages("en")}
    assert missing == {}


def test_a_msg_is_its_english_text() -> None:
    msg = Msg("collect.after_apply", attribute="encrypted")
    assert msg == "encrypted known only after apply"
    assert hash(msg) == hash("encrypted known only after apply")
    assert {msg: 1}["encrypted known only after apply"] == 1
    assert json.dumps({"reason": msg}) == '{"reason": "encrypted known only after apply"}'
    assert msg.render("fr") == "encrypted : valeur connue seulement après application"


def test_a_msg_survives_pickling_with_its_key() -> None:
    nested = join(
        [
            Msg(
                "host.unknown_noted",
                host="Amazon Web Services",
                fact=Msg("host.fact_unknown.expires"),
                source="S01",
                note=Quote("no expiry date on the page"),
            ),
            "plain text",
        ]
    )
    back = pickle.loads(pickle.dumps(nested))
    assert back == nested
    assert isinstance(back, Msg)
    assert render_msg(back, "fr") == render_msg(nested, "fr")
    assert render_msg(back, "fr") == (
        "Amazon Web Services : date d'expiration du certificat inconnue (source S01 consultée, "
        "citée en anglais : « no expiry date on the page ») ; plain text"
    )


def test_a_msg_survives_json_as_data() -> None:
    """report.json's ``messages`` table: a message comes back with its key, params, dates."""
    msg = join(
        [
            Msg(
                "host.judged", expires=date(2027, 3, 15), audit_date=date(2026, 12, 1), source="S9"
            ),
            Msg(
                "error.access_denied", code="AccessDenied", message=Quote("User is not authorized")
            ),
        ]
    )
    back = from_data(json.loads(json.dumps(to_data(msg))))
    assert back == msg
    assert render_msg(back, "fr") == render_msg(msg, "fr")
    assert "15 mars 2027" in render_msg(back, "fr")
    assert join(["only one"]) == "only one"


def test_plain_text_and_quotes() -> None:
    assert render_msg("as is", "fr") == "as is"
    assert render_msg(None, "fr") == ""
    assert render_msg(Quote("the page says"), "en") == "the page says"
    assert render_msg(Quote("the page says"), "fr") == "« the page says » (citation en anglais)"


def test_dates_per_language() -> None:
    assert format_date(date(2026, 12, 1), "en") == "2026-12-01"
    assert format_date(date(2026, 12, 1), "fr") == "1er décembre 2026"
    assert format_date(date(2027, 3, 15), "fr") == "15 mars 2027"
    judged = Msg(
        "host.judged", expires=date(2027, 3, 15), audit_date=date(2026, 12, 1), source="S9"
    )
    assert judged == "expires 2027-03-15, audit date 2026-12-01 [S9]"
    assert judged.render("fr") == "expire le 15 mars 2027, date de l'audit : 1er décembre 2026 [S9]"


def test_frameworks_show_in_french() -> None:
    result = run_cli(["frameworks", "show", "feima", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "politiques : HDS_" in out
    assert "attestation (valable 365 jours) : " in out
    assert "(partiellement automatisé)" in out
    for english in ("policies:", " days)", "(partial)", "(automated)", "(manual)"):
        assert english not in out
    assert set(MODES) == {
        k.rsplit(".", 1)[1] for k in messages("fr") if k.startswith("frameworks.mode.")
    }


def test_frameworks_show_in_english_is_unchanged() -> None:
    out = run_cli(["frameworks", "show", "feima"]).output
    assert "\nfeima:1  (partial)\n" in out
    assert "  policies: HDS_ENC_001" in out
    assert "  attestation (365 days): " in out


def test_providers_show_in_french_quotes_the_sources() -> None:
    out = run_cli(["providers", "show", "aws", "--lang", "fr"]).output
    assert "Statut du certificat" in out
    assert "Entité titulaire" in out
    assert "clés fournisseur : aws" in out
    assert "remarque de la source, en anglais : « " in out  # the registry's notes are quotes
    for english in ("note:", "source:", "provider keys", "legal_entity", " unknown\n"):
        assert english not in out
    english_out = run_cli(["providers", "show", "aws"]).output
    assert "  certificate_status  certified\n" in english_out
    assert "provider keys: aws" in english_out


#: Keys the code builds at run time (``Msg(f"host.fact_unknown.{fact}")`` ...).
_DYNAMIC = (
    "host.fact_unknown.",
    "host.activities_missing.",
    "providers.fact.",
    "providers.status.",
    "frameworks.mode.",
    "kind.",  # a resource's kind in words: providers.facts.kind_words
)


def test_every_key_in_the_catalogue_is_used() -> None:
    # Keys are named in code, and in the collectors' data tables (an unknown reason per type).
    sources = [*PACKAGE.rglob("*.py"), *PACKAGE.glob("collectors/*/data/*.yaml")]
    code = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    quoted = ('"{}"', "'{}'", ": {}\n")  # a Python string, or a YAML value
    unused = [
        key
        for key in messages("en")
        if not any(q.format(key) in code for q in quoted) and not key.startswith(_DYNAMIC)
    ]
    assert unused == []


@pytest.mark.parametrize(
    ("network_error", "french"),
    [
        ("[Errno 111] Connection refused", "connexion refusée"),
        ("Read timed out. (read timeout=5)", "délai dépassé"),
        ("Cannot connect to proxy.", "le proxy a échoué"),
        ("[Errno -2] Name or service not known", "nom d'hôte non résolu"),
        ("certificate verify failed", "certificat TLS refusé"),
    ],
)
def test_network_reasons_in_french(network_error: str, french: str) -> None:
    reason = unreachable_reason(network_error)
    assert render_msg(reason, "fr") == french
    assert render_msg(reason, "en") == reason  # the English text is the value


def test_a_host_scope_label_in_french() -> None:
    scope = HostScope("aws", "Amazon Web Services", "aws", region="us-east-1", backup=True)
    assert scope.label == "Amazon Web Services (us-east-1, backup)"
    assert render_msg(scope.label, "fr") == "Amazon Web Services (us-east-1, sauvegarde)"
    only = HostScope("aws", "Amazon Web Services", "aws", backup=True)
    assert render_msg(only.label, "fr") == "Amazon Web Services (sauvegarde)"
    assert HostScope("aws", "Amazon Web Services", "aws", region="us-east-1").label == (
        "Amazon Web Services (us-east-1)"
    )
