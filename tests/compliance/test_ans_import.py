"""`hds-audit providers import`: the ANS list as CSV, validated, diffed before writing."""

from __future__ import annotations

from pathlib import Path

from hds_audit.providers.registry import builtin_registry_text, load_registry
from hds_audit.testing import run_cli

CSV = (
    "Hébergeur;N° de certificat;Organisme certificateur;Activités;"
    "Date de délivrance;Date d'expiration\n"
    "Scaleway;HDS-2025-042;Organisme Exemple;1 à 6;14/11/2025;13/11/2028\n"
    "Nouvel Hébergeur SAS;HDS-2024-007;Organisme Exemple;1, 2, 6;2024-06-01;2027-05-31\n"
)


def _registry_copy(tmp_path: Path) -> Path:
    target = tmp_path / "hosts.yaml"
    target.write_text(builtin_registry_text(), encoding="utf-8")
    return target


def test_import_shows_the_diff_then_writes(tmp_path: Path) -> None:
    registry = _registry_copy(tmp_path)
    before = registry.read_text(encoding="utf-8")
    csv_file = tmp_path / "ans.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    dry = run_cli(["providers", "import", str(csv_file), "--registry", str(registry), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "scaleway: expires: unknown -> 2028-11-13" in dry.output
    assert "scaleway: certificate_number: unknown -> HDS-2025-042" in dry.output
    assert "+ new host nouvel-hebergeur-sas" in dry.output
    assert registry.read_text(encoding="utf-8") == before  # dry run: untouched
    declined = run_cli(["providers", "import", str(csv_file), "--registry", str(registry)])
    assert declined.exit_code == 1  # not confirmed (no input)
    assert registry.read_text(encoding="utf-8") == before
    done = run_cli(["providers", "import", str(csv_file), "--registry", str(registry), "--yes"])
    assert done.exit_code == 0, done.output
    reloaded = load_registry(registry)
    scaleway = reloaded.by_provider["scaleway"]
    expires = scaleway.expires()
    assert expires is not None and expires.isoformat() == "2028-11-13"
    assert scaleway.fact("activities").value == (1, 2, 3, 4, 5, 6)
    assert reloaded.source(scaleway.fact("expires").source).url.startswith("https://esante.gouv.fr")
    # Untouched facts keep their source; the header comment survives.
    assert scaleway.fact("scope_regions").source == "S15"
    assert registry.read_text(encoding="utf-8").startswith("# Certified-host registry")


def test_malformed_row_names_its_line(tmp_path: Path) -> None:
    registry = _registry_copy(tmp_path)
    csv_file = tmp_path / "ans.csv"
    csv_file.write_text(CSV + "Cloud Temple;X;Y;2,3,9;01/01/2025;01/01/2028\n", encoding="utf-8")
    result = run_cli(["providers", "import", str(csv_file), "--registry", str(registry), "--yes"])
    assert result.exit_code == 2
    assert f"{csv_file}:4: column 'Activités'" in result.stderr
    bad_date = tmp_path / "date.csv"
    bad_date.write_text(CSV.replace("13/11/2028", "bientôt"), encoding="utf-8")
    result = run_cli(["providers", "import", str(bad_date), "--registry", str(registry)])
    assert result.exit_code == 2
    assert f"{bad_date}:2: column \"Date d'expiration\": 'bientôt' is not a date" in result.stderr


def test_missing_host_column_and_explicit_mapping(tmp_path: Path) -> None:
    registry = _registry_copy(tmp_path)
    csv_file = tmp_path / "ans.csv"
    csv_file.write_text("Entreprise,Fin\nScaleway,2028-01-31\n", encoding="utf-8")
    refused = run_cli(["providers", "import", str(csv_file), "--registry", str(registry)])
    assert refused.exit_code == 2
    assert f"{csv_file}:1: no host column" in refused.stderr
    mapped = run_cli(
        [
            "providers",
            "import",
            str(csv_file),
            "--registry",
            str(registry),
            "--column",
            "Entreprise=host",
            "--column",
            "Fin=expires",
            "--dry-run",
        ]
    )
    assert mapped.exit_code == 0, mapped.output
    assert "scaleway: expires: unknown -> 2028-01-31" in mapped.output
