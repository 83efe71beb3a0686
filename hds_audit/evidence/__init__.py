"""The evidence pack: what a run read, what it wrote, and a signature a certifier can check.

``inputs`` fingerprints every file a run reads (path, kind, size, sha256 of the bytes read);
``keys`` makes and loads Ed25519 keys; ``manifest`` lists the report files written and signs
that list; ``verify`` checks a report folder against its signed manifest. No module here
imports the CLI; only ``keys``, ``manifest`` and ``verify`` need ``cryptography``.
"""
