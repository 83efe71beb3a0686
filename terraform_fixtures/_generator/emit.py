import copy, json
from tfjson import *
import dossier as D

def sort_deep(v):
    if isinstance(v, dict):
        return {k: sort_deep(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [sort_deep(x) for x in v]
    return v

def mod_key(m):
    return [] if not m else m.split(".")

# ------------------------------------------------------------------ state v4
def state_doc(resources, outputs, serial, lineage, tf="1.11.4"):
    rs = sorted(resources, key=lambda r: (r.module, r.mode, r.type, r.name))
    out_res = []
    for r in rs:
        d = {}
        if r.module:
            d["module"] = r.module
        d["mode"] = r.mode
        d["type"] = r.type
        d["name"] = r.name
        d["provider"] = provider_state_string(r.provider)
        insts = []
        for i in sorted(r.instances, key=lambda i: (str(type(i.index)), i.index if i.index is not None else 0)):
            o = {}
            if i.index is not None:
                o["index_key"] = i.index
            o["schema_version"] = r.schema_version
            o["attributes"] = sort_deep(i.attrs)
            o["sensitive_attributes"] = state_sensitive_paths(i.sensitive)
            if i.private:
                o["private"] = i.private
            if i.deps:
                o["dependencies"] = sorted(i.deps)
            insts.append(o)
        d["instances"] = insts
        out_res.append(d)
    outs = {}
    for name in sorted(outputs):
        v, typ, sens = outputs[name]
        o = {"value": v, "type": typ}
        if sens:
            o["sensitive"] = True
        outs[name] = o
    return {"version": 4, "terraform_version": tf, "serial": serial, "lineage": lineage,
            "outputs": outs, "resources": out_res, "check_results": None}

# ------------------------------------------------------------------ show -json plan
def module_tree(entries):
    """entries: list of (module, resource_json). returns root_module dict with child_modules."""
    mods = {}
    for m, rj in entries:
        mods.setdefault(m, []).append(rj)
    allm = set(mods)
    for m in list(allm):
        parts = m.split(".") if m else []
        for k in range(2, len(parts), 2):
            allm.add(".".join(parts[:k]))
    def build(m):
        d = {}
        if mods.get(m):
            d["resources"] = sorted(mods[m], key=lambda r: r["address"])
        if m:
            d["address"] = m
        kids = sorted(x for x in allm if x and x.startswith(m + "." if m else "module.") and len(mod_key(x)) == len(mod_key(m)) + 2)
        if kids:
            d["child_modules"] = [build(k) for k in kids]
        return d
    return build("")

def values_entry(r, inst, values, sens_vals, with_deps=False):
    d = {"address": r.inst_addr(inst), "mode": r.mode, "type": r.type, "name": r.name}
    if inst.index is not None:
        d["index"] = inst.index
    d["provider_name"] = provider_name(r.provider)
    d["schema_version"] = r.schema_version
    d["values"] = sort_deep(values)
    d["sensitive_values"] = sort_deep(sens_vals)
    if with_deps and inst.deps:
        d["depends_on"] = sorted(inst.deps)
    return d

def plan_doc(prior, changes, new, config, outputs_before, outputs_after, variables, timestamp, tf="1.11.4"):
    """prior: resources in state; changes: addr -> spec; new: list of Res (with inst.attrs containing UNK);
       config: dict(provider_config, root_module) built by config_doc."""
    rc = []
    planned = []
    def order(r, i):
        return (mod_key(r.module), r.inst_addr(i))
    items = [(r, i, "prior") for r in prior if r.mode == "managed" for i in r.instances] + \
            [(r, i, "new") for r in new for i in r.instances]
    items.sort(key=lambda t: (len(mod_key(t[0].module)) > 0, t[0].module, t[0].inst_addr(t[1])))
    for r, i, origin in items:
        addr = r.inst_addr(i)
        spec = changes.get(addr, {"action": "no-op"}) if origin == "prior" else {"action": "create"}
        before = None if origin == "new" else sort_deep(i.attrs)
        act = spec["action"]
        if act == "no-op":
            after = copy.deepcopy(before)
        elif act == "update":
            after = copy.deepcopy(before)
            for k, v in spec["set"].items():
                after[k] = v
        elif act == "replace":
            after = copy.deepcopy(before)
            for k, v in spec["set"].items():
                if k in after:
                    after[k] = v
        elif act == "create":
            after = copy.deepcopy(i.attrs)
        elif act == "delete":
            after = None
        after = sort_deep(after) if after is not None else None
        ch = {"actions": {"no-op": ["no-op"], "update": ["update"], "replace": ["delete", "create"],
                          "create": ["create"], "delete": ["delete"]}[act],
              "before": before}
        if after is not None:
            ch["after"] = omit_unknowns(after)
            ch["after_unknown"] = unknown_as_bool(after)
        else:
            ch["after"] = None
            ch["after_unknown"] = {}
        ch["before_sensitive"] = sensitive_as_bool(before, i.sensitive) if before is not None else False
        ch["after_sensitive"] = sensitive_as_bool(after, i.sensitive) if after is not None else False
        if act == "replace" and spec.get("replace_paths"):
            ch["replace_paths"] = spec["replace_paths"]
        e = {"address": addr}
        if r.module:
            e["module_address"] = r.module
        e.update({"mode": r.mode, "type": r.type, "name": r.name})
        if i.index is not None:
            e["index"] = i.index
        e["provider_name"] = provider_name(r.provider)
        e["change"] = ch
        if spec.get("reason"):
            e["action_reason"] = spec["reason"]
        rc.append(e)
        if after is not None:
            planned.append((r.module, values_entry(r, i, omit_unknowns(after), ch["after_sensitive"])))
    # outputs
    pv_out, oc = {}, {}
    for name in sorted(outputs_after):
        v_after, typ, sens, unknown = outputs_after[name]
        v_before = outputs_before.get(name)
        if unknown:
            pv_out[name] = {"sensitive": sens}
        else:
            pv_out[name] = {"sensitive": sens, "type": typ, "value": v_after}
        o = {"actions": ["update"] if unknown or (v_before and v_before[0] != v_after) else (["create"] if v_before is None else ["no-op"]),
             "before": v_before[0] if v_before else None}
        if not unknown:
            o["after"] = v_after
        o["after_unknown"] = bool(unknown)
        o["before_sensitive"] = sens
        o["after_sensitive"] = sens
        oc[name] = o
    prior_entries = [(r.module, values_entry(r, i, i.attrs, sensitive_as_bool(sort_deep(i.attrs), i.sensitive), with_deps=True))
                     for r in prior for i in r.instances]
    prior_outs = {}
    for name in sorted(outputs_before):
        v, typ, sens = outputs_before[name]
        prior_outs[name] = {"sensitive": sens, "value": v, "type": typ}
    doc = {"format_version": "1.2", "terraform_version": tf,
           "variables": {k: {"value": variables[k]} for k in sorted(variables)},
           "planned_values": {"outputs": pv_out, "root_module": module_tree(planned)},
           "resource_changes": rc,
           "output_changes": oc,
           "prior_state": {"format_version": "1.0", "terraform_version": tf,
                           "values": {"outputs": prior_outs, "root_module": module_tree(prior_entries)}},
           "configuration": config,
           "relevant_attributes": relevant_attributes(config),
           "timestamp": timestamp, "applyable": True, "complete": True, "errored": False}
    return doc

def _walk_refs(x, out):
    if isinstance(x, dict):
        if "references" in x and isinstance(x["references"], list):
            out.extend(x["references"])
        for v in x.values():
            _walk_refs(v, out)
    elif isinstance(x, list):
        for v in x:
            _walk_refs(v, out)

def relevant_attributes(config):
    found = set()
    def visit(mod, prefix):
        for r in mod.get("resources", []):
            refs = []
            _walk_refs(r.get("expressions", {}), refs)
            for ref in refs:
                parts = ref.split(".")
                if parts[0] in ("var", "local", "count", "each", "module", "path", "self"):
                    continue
                if parts[0] == "data":
                    if len(parts) < 4:
                        continue
                    res, attr = ".".join(parts[:3]), parts[3]
                else:
                    if len(parts) < 3:
                        continue
                    res, attr = ".".join(parts[:2]), parts[2]
                if "[" in attr:
                    attr = attr.split("[")[0]
                found.add((prefix + res, attr))
        for name, mc in mod.get("module_calls", {}).items():
            visit(mc["module"], prefix + f"module.{name}.")
    visit(config["root_module"], "")
    return [{"resource": r, "attribute": [a]} for r, a in sorted(found)]

# ------------------------------------------------------------------ configuration
def res_config(r):
    d = {"address": r.local_addr, "mode": r.mode, "type": r.type, "name": r.name,
         "provider_config_key": r.provider, "expressions": sort_deep(r.config.get("expressions", {})),
         "schema_version": r.schema_version}
    if "count_expression" in r.config:
        d["count_expression"] = r.config["count_expression"]
    if "for_each_expression" in r.config:
        d["for_each_expression"] = r.config["for_each_expression"]
    if r.config.get("depends_on"):
        d["depends_on"] = r.config["depends_on"]
    return d

def config_doc(resources, provider_config, modules):
    """modules: dict module_path -> {source, expressions, outputs, variables}; root '' has outputs/variables."""
    by_mod = {}
    for r in resources:
        by_mod.setdefault(r.module, []).append(res_config(r))
    def build(m):
        spec = modules[m]
        d = {}
        if spec.get("outputs"):
            d["outputs"] = {k: spec["outputs"][k] for k in sorted(spec["outputs"])}
        if by_mod.get(m):
            d["resources"] = sorted(by_mod[m], key=lambda x: x["address"])
        kids = sorted(x for x in modules if x and len(mod_key(x)) == len(mod_key(m)) + 2 and x.startswith(m + "." if m else "module."))
        if kids:
            d["module_calls"] = {}
            for k in kids:
                ks = modules[k]
                call = {"source": ks["source"]}
                if ks.get("expressions"):
                    call["expressions"] = sort_deep(ks["expressions"])
                call["module"] = build(k)
                d["module_calls"][k.split(".")[-1]] = call
        if spec.get("variables"):
            d["variables"] = {k: spec["variables"][k] for k in sorted(spec["variables"])}
        return d
    return {"provider_config": {k: provider_config[k] for k in sorted(provider_config)}, "root_module": build("")}
