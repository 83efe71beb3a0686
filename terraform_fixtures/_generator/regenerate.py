#!/usr/bin/env python3
"""Rebuild every generated fixture of terraform_fixtures/ (not backend-dir/, which the real CLI wrote).

    python terraform_fixtures/_generator/regenerate.py            # writes into terraform_fixtures/
    python terraform_fixtures/_generator/regenerate.py /tmp/out   # writes elsewhere

Deterministic: the same code writes byte-identical files. Needs PyYAML."""
import os, sys
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import build_all, build_broken, build_legacy, gather_secrets, build_expected, validate  # noqa: E402


def main(out):
    build_all.main(out)
    build_broken.main(out)
    build_legacy.main(out)
    build_expected.main(out, gather_secrets.main(out))
    return validate.main(out)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(HERE)
    sys.exit(0 if main(target) else 1)
