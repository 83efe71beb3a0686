"""``hds-audit permissions``: the read-only permissions hds-audit needs."""

from __future__ import annotations

import click


@click.group("permissions")
def permissions() -> None:
    """Print the read-only permissions hds-audit needs."""


@permissions.command("azure")
@click.option(
    "--azure-subscription",
    "subscriptions",
    multiple=True,
    metavar="ID",
    help="Subscription the role is assignable to. Repeatable (default: a placeholder).",
)
def permissions_azure(subscriptions: tuple[str, ...]) -> None:
    """Print an Azure custom role definition (JSON) with exactly the read actions needed."""
    from hds_audit.collectors.azure.permissions import role_definition_json

    click.echo(role_definition_json(subscriptions), nl=False)


@permissions.command("aws")
def permissions_aws() -> None:
    """Print the least-privilege read-only IAM policy (JSON) that `scan --aws` needs."""
    from hds_audit.collectors.aws.table import iam_policy_json

    click.echo(iam_policy_json())


@permissions.command("gcp")
def permissions_gcp() -> None:
    """Print the least-privilege Google Cloud custom role (YAML for gcloud iam roles create)."""
    from hds_audit.collectors.gcp.table import custom_role_yaml

    click.echo(custom_role_yaml(), nl=False)


@permissions.command("scaleway")
@click.option(
    "--scaleway-organization",
    "organization",
    metavar="ID",
    help="Organisation the policy is created in (default: a placeholder).",
)
def permissions_scaleway(organization: str | None) -> None:
    """Print the least-privilege Scaleway IAM policy (JSON, read-only permission sets)."""
    from hds_audit.collectors.scaleway.table import iam_policy_json

    click.echo(iam_policy_json(organization))
