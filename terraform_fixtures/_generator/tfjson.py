"""Helpers that reproduce Terraform 1.11 JSON conventions (state v4, show -json plan)."""
import base64, hashlib, json, uuid, copy

UNK = "__UNKNOWN_AFTER_APPLY__"  # marker for plan values known only after apply

def h(seed, n=32, alphabet="0123456789abcdef"):
    out = ""
    i = 0
    while len(out) < n:
        d = hashlib.sha256(f"{seed}/{i}".encode()).digest()
        for b in d:
            out += alphabet[b % len(alphabet)]
        i += 1
    return out[:n]

def uid(seed):
    return str(uuid.UUID(h(seed, 32)))

def upper(seed, n):
    return h(seed, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

def b64(seed, n):
    return h(seed, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

TIMEOUT_KEY = "e2bfb730-ecaa-11e6-8f88-34363bc7c4c0"

def private(timeouts=None, schema_version=None):
    """SDKv2 'private' blob: base64 JSON of timeouts (ns) and schema_version."""
    if not timeouts and schema_version is None:
        return "bnVsbA=="  # base64("null")
    d = {}
    if timeouts:
        d[TIMEOUT_KEY] = {k: int(v * 60 * 1e9) for k, v in sorted(timeouts.items())}
    if schema_version is not None:
        d["schema_version"] = str(schema_version)
    return base64.b64encode(json.dumps(d, separators=(",", ":")).encode()).decode()

def provider_state_string(key):
    name, _, alias = key.partition(".")
    src = {"terraform": "terraform.io/builtin/terraform"}.get(name, f"registry.terraform.io/hashicorp/{name}")
    s = f'provider["{src}"]'
    return s + (f".{alias}" if alias else "")

def provider_name(key):
    name = key.partition(".")[0]
    return {"terraform": "terraform.io/builtin/terraform"}.get(name, f"registry.terraform.io/hashicorp/{name}")

# ---------------------------------------------------------------- value transforms
def _norm_paths(paths):
    return [p if isinstance(p, tuple) else (p,) for p in paths]

def sensitive_as_bool(v, paths=()):
    """jsonplan SensitiveAsBool: structure mirroring v; true where a sensitive mark sits (also on nulls)."""
    paths = _norm_paths(paths)
    if () in paths:
        return True
    if v is None or isinstance(v, (str, int, float, bool)):
        return False
    if isinstance(v, list):
        return [sensitive_as_bool(x, [p[1:] for p in paths if p and p[0] == i]) for i, x in enumerate(v)]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            r = sensitive_as_bool(x, [p[1:] for p in paths if p and p[0] == k])
            if r is not False:
                out[k] = r
        return out
    return False

def state_sensitive_paths(paths):
    out = []
    for p in _norm_paths(paths):
        steps = []
        for s in p:
            if isinstance(s, int):
                steps.append({"type": "index", "value": {"value": s, "type": "number"}})
            else:
                steps.append({"type": "get_attr", "value": s})
        out.append(steps)
    return out

def unknown_as_bool(v):
    if v is None:
        return False
    if v == UNK:
        return True
    if isinstance(v, list):
        return [unknown_as_bool(x) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            r = unknown_as_bool(x)
            if r is not False:
                out[k] = r
        return out
    return False

def omit_unknowns(v):
    if v == UNK:
        return None
    if isinstance(v, list):
        return [None if x == UNK else omit_unknowns(x) for x in v]
    if isinstance(v, dict):
        return {k: omit_unknowns(x) for k, x in v.items() if x != UNK}
    return v

def has_unknown(v):
    return unknown_as_bool(v) not in (False, {}, []) and _any_true(unknown_as_bool(v))

def _any_true(x):
    if x is True:
        return True
    if isinstance(x, list):
        return any(_any_true(i) for i in x)
    if isinstance(x, dict):
        return any(_any_true(i) for i in x.values())
    return False

# ---------------------------------------------------------------- expressions (configuration)
def C(v):
    return {"constant_value": v}

def R(*refs):
    """references as jsonconfig marshalExpression writes them."""
    out = []
    for ref in refs:
        parts = _split_ref(ref)
        # subject length: var.x / local.x / count.index / each.key -> 2 ; module.m.out -> 3 ;
        # data.t.n -> 3 ; t.n -> 2 (+ index)
        if parts[0] in ("var", "local", "count", "each", "path", "terraform"):
            subj = 2
            kind = "simple"
        elif parts[0] == "module":
            subj = 3
            kind = "modout"
        elif parts[0] == "data":
            subj = 3
            kind = "res"
        else:
            subj = 2
            kind = "res"
        # index after the name belongs to the subject
        subject = parts[:subj]
        rest = parts[subj:]
        keyed = False
        if kind == "res" and rest and rest[0].startswith("["):
            subject = subject + [rest[0]]
            rest = rest[1:]
            keyed = True
        for i in range(len(rest), 0, -1):
            out.append(_join(subject + rest[:i]))
        out.append(_join(subject))
        if kind == "res" and keyed:
            out.append(_join(subject[:-1]))
        if kind == "modout":
            out.append(_join(subject[:2]))
    return {"references": out}

def _split_ref(ref):
    parts = []
    buf = ""
    i = 0
    while i < len(ref):
        c = ref[i]
        if c == ".":
            if buf:
                parts.append(buf)
            buf = ""
        elif c == "[":
            if buf:
                parts.append(buf)
            j = ref.index("]", i)
            parts.append(ref[i:j + 1])
            buf = ""
            i = j
        else:
            buf += c
        i += 1
    if buf:
        parts.append(buf)
    return parts

def _join(parts):
    s = ""
    for p in parts:
        if p.startswith("["):
            s += p
        else:
            s += ("." if s else "") + p
    return s

# ---------------------------------------------------------------- go-style json
def go_json(obj, indent=None):
    """json like Go's encoding/json: HTML-escaped <, >, & ; raw UTF-8."""
    if indent:
        s = json.dumps(obj, indent=indent, ensure_ascii=False)
    else:
        s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
