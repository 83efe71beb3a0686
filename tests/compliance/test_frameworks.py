"""Framework mappings: meta-tests over requirements and policies, and bad framework files."""

from __future__ import annotations

from importlib import resources as package_files

import pytest

from hds_audit.datafile import DataFileError
from hds_audit.engine import builtin_policies
from hds_audit.frameworks import builtin_frameworks, check_policies, parse_framework
from hds_audit.testing import run_cli

# The twelve commitments as published (feima-charter.md).
FEIMA = [
    "Conformité au RGPD",
    "Hébergements de données de santé certifiés et respectueux des impératifs de souveraineté"
    " européenne",
    "Conformité aux référentiels de la CNIL",
    "Conformité aux référentiels de la PGSSI-S (politique générale de sécurité des systèmes"
    " d'information de santé)",
    "Échanges de données de santé via Messagerie Sécurisée de Santé (MSSanté)",
    "Cryptage et anonymisation des données échangées entre acteurs de santé ou exportées à des"
    " fins d'études ou de recherche",
    "Collecte de données de santé dans le cadre strict réglementaire autorisé",
    "Respect des règles de portabilité dictées par les pouvoirs publics",
    "Démarche de mesure de la conformité via la plateforme CONVERGENCE (ANS)",
    "Mise en conformité avec les critères d'éthique des Logiciels de Gestion de Cabinet",
    "Promotion du « mémento de sécurité informatique pour les professionnels en exercice libéral »",
    "Conseil et accompagnement des professionnels de santé",
]


def test_every_referenced_policy_exists() -> None:
    known = {p.id for p in builtin_policies()}
    for framework in builtin_frameworks():
        for requirement in framework.requirements:
            assert set(requirement.policies) <= known, requirement.ref
    check_policies(builtin_frameworks(), known)


def test_every_policy_is_referenced_by_a_requirement() -> None:
    referenced = {p for f in builtin_frameworks() for r in f.requirements for p in r.policies}
    unreferenced = {p.id for p in builtin_policies()} - referenced
    assert unreferenced == set()


def test_order_and_scope() -> None:
    frameworks = builtin_frameworks()
    assert [f.id for f in frameworks][:3] == ["feima", "hds-v2", "gdpr"]
    hds = {r.id for r in frameworks[1].requirements}
    assert {"EXI 28", "EXI 29", "EXI 30", "EXI 31"} <= hds
    gdpr = {r.id for r in frameworks[2].requirements}
    assert {"Art. 32", "Art. 44", "Art. 45", "Art. 46", "Art. 47", "Art. 48", "Art. 49"} == gdpr


def test_feima_commitments_as_published() -> None:
    feima = builtin_frameworks()[0]
    assert [r.id for r in feima.requirements] == [str(n) for n in range(1, 13)]
    assert [r.title["fr"] for r in feima.requirements] == FEIMA
    for requirement in feima.requirements:
        if requirement.mode != "automated":
            assert requirement.attestation["fr"] and requirement.attestation["en"]


def test_policy_references_resolve_to_requirements() -> None:
    """A policy's own framework references that name a mapped framework point at a real
    requirement (or are listed here as known mismatches to review)."""
    requirements = {f.id: {r.id for r in f.requirements} for f in builtin_frameworks()}
    dangling = set()
    for policy in builtin_policies():
        for framework, refs in policy.meta.frameworks.items():
            for ref in refs:
                if framework in requirements and ref not in requirements[framework]:
                    dangling.add((policy.id, framework, ref))
    # HDS_ENC_001 cites EXI 02, whose text is about the host's ISMS context, not encryption;
    # the HDS v2 mapping deliberately does not map encryption there.
    assert dangling <= {("HDS_ENC_001", "hds-v2", "EXI 02")}


FRAMEWORK = """\
id: test
name: {fr: Test, en: Test}
requirements:
  - id: R1
    title: {fr: Un, en: One}
    mode: automated
    policies: [HDS_RES_001]
  - id: R2
    title: {fr: Deux, en: Two}
    mode: manual
    attestation: {fr: A, en: A}
"""
BROKEN = [
    ("mode: automated", "mode: sometimes", 6, "mode must be one of"),
    ("    policies: [HDS_RES_001]\n", "", 6, "a automated requirement must name its policies"),
    ("    attestation: {fr: A, en: A}\n", "", 8, "'attestation' must be text"),
    ("  - id: R2", "  - id: R1", 8, "duplicate requirement 'R1'"),
    ("title: {fr: Un, en: One}", "title: {fr: Un, en: [One]}", 5, "'title' must be text"),
]


@pytest.mark.parametrize(("old", "new", "line", "problem"), BROKEN, ids=[b[3][:20] for b in BROKEN])
def test_malformed_framework_names_file_line_problem(
    old: str, new: str, line: int, problem: str
) -> None:
    assert old in FRAMEWORK
    with pytest.raises(DataFileError) as caught:
        parse_framework(FRAMEWORK.replace(old, new, 1), "test.yaml")
    assert str(caught.value).startswith(f"test.yaml:{line}: ")
    assert problem in str(caught.value)


def test_unknown_policy_in_a_framework_names_its_line() -> None:
    framework = parse_framework(FRAMEWORK.replace("HDS_RES_001", "HDS_NOPE_999"), "test.yaml")
    with pytest.raises(
        DataFileError, match=r"^test\.yaml:4: requirement 'R1' names unknown policy HDS_NOPE_999"
    ):
        check_policies([framework], [p.id for p in builtin_policies()])


def test_builtin_framework_files_parse() -> None:
    folder = package_files.files("hds_audit.frameworks") / "data"
    names = sorted(e.name for e in folder.iterdir() if e.name.endswith(".yaml"))
    assert names == ["feima.yaml", "gdpr.yaml", "hds-v2.yaml", "pgssi-s.yaml", "secnumcloud.yaml"]


def test_frameworks_cli() -> None:
    listing = run_cli(["frameworks", "list"])
    assert listing.exit_code == 0
    assert "feima" in listing.output and "hds-v2" in listing.output
    shown = run_cli(["frameworks", "show", "hds-v2"])
    assert shown.exit_code == 0
    assert "hds-v2:EXI 28  (automated)" in shown.output
    assert "HDS_REP_001" in shown.output
    french = run_cli(["frameworks", "show", "feima", "--lang", "fr"])
    assert "Conformité au RGPD" in french.output
    assert run_cli(["frameworks", "show", "iso27001"]).exit_code == 2


def test_secnumcloud_framework_in_french_and_english() -> None:
    shown = run_cli(["frameworks", "show", "secnumcloud", "--lang", "fr"])
    assert shown.exit_code == 0, shown.output
    assert "secnumcloud:19.2  (automatisé)" in shown.output
    assert "Localisation des données dans l'Union européenne" in shown.output
    assert "HDS_RES_001, HDS_RES_002, HDS_REP_001" in shown.output
    assert "offre qualifiée SecNumCloud 3.2" in shown.output
    english = run_cli(["frameworks", "show", "secnumcloud", "--lang", "en"])
    assert "secnumcloud:19.6  (partial)" in english.output
    assert "Encryption of stored data" in english.output
    # Ids line up in the listing, however long the framework id.
    listing = run_cli(["frameworks", "list"]).output.splitlines()
    width = len("secnumcloud")
    assert all(line[width] == " " and line[width + 1] != " " for line in listing)
