"""The directory ``checkov --external-checks-dir`` loads (see ``hds-audit checkov-pack``)."""
