import json, os, re, sys, yaml
def main(OUT):
    ok = True
    def fail(msg):
        global ok
        ok = False
        print("FAIL", msg)

    def load(p):
        raw = open(os.path.join(OUT, p), "rb").read()
        return json.loads(raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw)

    def state_addrs(st):
        out = set()
        for r in st["resources"]:
            base = (r["module"] + "." if r.get("module") else "") + ("data." if r["mode"] == "data" else "") + f'{r["type"]}.{r["name"]}'
            for i in r["instances"]:
                k = i.get("index_key")
                out.add(base if k is None else (f"{base}[{k}]" if isinstance(k, int) else f'{base}["{k}"]'))
        return out

    def tree_addrs(m, parent=""):
        out = set()
        for r in m.get("resources", []):
            out.add(r["address"])
        for c in m.get("child_modules", []):
            if not c["address"].startswith(parent):
                fail(f"child module {c['address']} not under {parent}")
            for r in c.get("resources", []):
                if not r["address"].startswith(c["address"] + "."):
                    fail(f"{r['address']} not in module {c['address']}")
            out |= tree_addrs(c, c["address"])
        return out

    for p in ["patient-records/plan.json", "compliant/plan.json", "broken/plan-terraform-0.12.json"]:
        d = load(p)
        pv = tree_addrs(d["planned_values"]["root_module"])
        rc = {r["address"]: r for r in d["resource_changes"]}
        non_del = {a for a, r in rc.items() if r["change"]["actions"] != ["delete"]}
        if pv != non_del:
            fail(f"{p}: planned_values vs resource_changes differ: {pv ^ non_del}")
        for a, r in rc.items():
            ma = r.get("module_address")
            if ma and not a.startswith(ma + "."):
                fail(f"{p}: {a} module_address {ma}")
            if not ma and a.startswith("module."):
                fail(f"{p}: {a} lacks module_address")
            # config must exist for non-deleted resources, provider key must exist
        pc = d["configuration"]["provider_config"]
        def walk(m, prefix):
            found = {}
            for r in m.get("resources", []):
                key = r["provider_config_key"]
                if d["format_version"] != "0.1" and key not in pc:
                    fail(f"{p}: {prefix}{r['address']} provider key {key} missing")
                found[prefix + r["address"]] = r
            for n, mc in m.get("module_calls", {}).items():
                found.update(walk(mc["module"], prefix + f"module.{n}."))
            return found
        cfg = walk(d["configuration"]["root_module"], "")
        for a, r in rc.items():
            base = re.sub(r"\[[^\]]*\]$", "", a)
            if r["change"]["actions"] != ["delete"] and base not in cfg:
                fail(f"{p}: no configuration for {a}")
        if "prior_state" in d:
            ps = tree_addrs(d["prior_state"]["values"]["root_module"])
            st = state_addrs(load(p.replace("plan.json", "terraform.tfstate")))
            if ps != st:
                fail(f"{p}: prior_state != state: {ps ^ st}")
        print("checked", p, len(rc), "changes")

    exp = yaml.safe_load(open(os.path.join(OUT, "EXPECTED.yaml")))
    for f, spec in exp["files"].items():
        path = os.path.join(OUT, f)
        if not os.path.exists(path):
            fail(f"EXPECTED names missing file {f}"); continue
        if spec.get("outcome", "parsed").startswith("input_error"):
            continue
        if f.endswith(".tfstate") and f != "broken/state-v3.tfstate":
            addrs = state_addrs(load(f))
        elif f.endswith("plan.json") or f.endswith("0.12.json"):
            addrs = tree_addrs(load(f)["planned_values"]["root_module"])
        elif f.endswith("wrapper-command-line.json"):
            addrs = tree_addrs(json.loads(open(path, encoding="utf-8").read().split("\n")[1])["planned_values"]["root_module"])
        else:
            addrs = None
        for sec in ("resources", "other_resources", "resources_if_parsed"):
            for r in spec.get(sec, []):
                if addrs is not None and r["address"] not in addrs:
                    fail(f"{f}: EXPECTED address {r['address']} not in file")
        for a in spec.get("attachments", []):
            for k in ("address", "affects"):
                if addrs is not None and a[k] not in addrs:
                    fail(f"{f}: attachment {a[k]} not in file")
        print("expected ok", f)

    # every FixtureSecret token is (part of) a listed secret
    secrets = exp["secrets"]
    for root, _, fs in os.walk(OUT):
        for fn in fs:
            p = os.path.join(root, fn)
            if fn.endswith((".yaml", ".md", ".tf")):
                continue
            raw = open(p, "rb").read()
            t = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("utf-8", "replace")
            for m in re.finditer(r"FixtureSecret", t):
                seg = t[max(0, m.start() - 120): m.end() + 120]
                if not any(s in seg or seg.find(s[:30]) >= 0 for s in secrets):
                    fail(f"{p}: FixtureSecret occurrence not covered: {seg}")
    for s in secrets:
        if "FixtureSecret" not in s:
            fail(f"secret without marker: {s}")
    for p in ["patient-records/plan.json", "compliant/plan.json", "patient-records/terraform.tfstate", "compliant/terraform.tfstate"]:
        sz = os.path.getsize(os.path.join(OUT, p))
        if sz > 300 * 1000:
            fail(f"{p} is {sz} bytes")
    print("ALL OK" if ok else "PROBLEMS")

    return ok


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1]) else 1)