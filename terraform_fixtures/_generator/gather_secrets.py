import json, os, sys
import dossier as D
def main(OUT):
    vals = {}
    for variant in ("violations", "compliant"):
        _, secrets, _ = D.build(variant)
        for k, v in secrets.items():
            vals.setdefault(v, set()).add(f"{variant}: {k}")
    vals.setdefault("FixtureSecret-LegacyV3DbPw-5Nc8", set()).add("legacy: aws_db_instance.legacy password (state v3)")
    vals.setdefault("FixtureSecret-Tf012DbPw-2Mx7", set()).add("legacy: aws_db_instance.legacy password + var.db_password (0.12 plan)")
    files = []
    for root, _, fs in os.walk(OUT):
        for f in fs:
            if f.endswith((".json", ".tfstate")):
                files.append(os.path.join(root, f))
    texts = {}
    for p in files:
        raw = open(p, "rb").read()
        texts[os.path.relpath(p, OUT)] = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("utf-8")
    locs = []
    missing = []
    for v in sorted(vals):
        where = sorted(f for f, t in texts.items() if v in t)
        if not where:
            missing.append(v)
        locs.append({"value": v, "planted_as": sorted(vals[v]), "files": where})
    print("secrets:", len(vals), "missing:", missing)

    return {"values": sorted(vals), "locations": locs}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), indent=1))