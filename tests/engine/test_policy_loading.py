"""Policies are validated when loaded: the error names the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hds_audit.engine import builtin_policies, load_policies, load_policy_text
from hds_audit.engine.policies import CATEGORIES
from hds_audit.errors import PolicyError

VALID = """\
metadata:
  id: CUSTOM_001
  name: Custom
  category: residency
  severity: high
  rationale: because
  remediation: fix it
  frameworks: {hds-v2: ["EXI 28"]}
definition:
  cond_type: attribute
  attribute: in_area
  operator: is_true
"""


def test_valid_policy_loads() -> None:
    [policy] = load_policy_text(VALID, "custom.yaml")
    assert policy.id == "CUSTOM_001"
    assert policy.meta.frameworks == {"hds-v2": ("EXI 28",)}


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("operator: is_true", "operator: is_truthy", 12, "unknown operator 'is_truthy'"),
        ("attribute: in_area", "attribute: region.allowed", 11, "unknown attribute path"),
        ("severity: high", "severity: urgent", 5, "unknown severity 'urgent'"),
        ("category: residency", "category: vibes", 4, "unknown category 'vibes'"),
        ("  remediation: fix it\n", "", 1, "metadata needs 'remediation'"),
        ('  frameworks: {hds-v2: ["EXI 28"]}\n', "", 1, "metadata needs 'frameworks'"),
        ("  operator: is_true\n", "  operator: equals\n", 12, "needs a 'value'"),
        ("  name: Custom\n", "  name: Custom\n  name: Again\n", 4, "duplicate key 'name'"),
    ],
)
def test_invalid_policy_names_file_and_line(old: str, new: str, line: int, message: str) -> None:
    text = VALID.replace(old, new)
    assert text != VALID
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "custom.yaml")
    assert caught.value.file == "custom.yaml"
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"custom.yaml:{line}: ")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(PolicyError, match=r"^bad\.yaml:4: invalid YAML: .*started at line 3"):
        load_policy_text("metadata:\n  id: X\n  name: [unclosed\n", "bad.yaml")


def test_duplicate_policy_id_across_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text(VALID.replace("CUSTOM_001", "HDS_RES_001"), encoding="utf-8")
    with pytest.raises(PolicyError, match="duplicate policy id 'HDS_RES_001'"):
        load_policies([str(tmp_path)])


def test_extra_policy_folder_is_added(tmp_path: Path) -> None:
    (tmp_path / "custom.yaml").write_text(VALID, encoding="utf-8")
    ids = [p.id for p in load_policies([str(tmp_path)])]
    assert "CUSTOM_001" in ids and "HDS_RES_001" in ids


def test_builtin_catalogue_meta() -> None:
    """Every policy has severity, rationale and remediation in both languages, a Terraform
    snippet, a known category and at least one framework reference."""
    policies = builtin_policies()
    assert {p.meta.category for p in policies} >= {
        "residency",
        "replication_residency",
        "encryption_at_rest",
        "key_management",
    }
    for policy in policies:
        meta = policy.meta
        assert meta.category in CATEGORIES
        assert meta.frameworks and all(meta.frameworks.values())
        assert meta.remediation_terraform.strip()
        for lang in ("en", "fr"):
            for field in ("name", "rationale", "remediation"):
                assert meta.translations[lang][field].strip(), (policy.id, lang, field)


def test_terraform_examples_print_without_wrapping() -> None:
    """The report prints each example in a box of about 85 characters on A4: a longer line
    wrapped mid-comment ("voir le" / "registre")."""
    for policy in builtin_policies():
        for lang in ("en", "fr"):
            example = policy.meta.text("remediation_terraform", lang)
            long_lines = [line for line in example.splitlines() if len(line) > 80]
            assert long_lines == [], (policy.id, lang)
