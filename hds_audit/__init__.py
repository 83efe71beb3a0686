"""hds-audit: prove, with evidence, that health-data infrastructure stays HDS-compliant."""

__version__ = "0.1.0"
