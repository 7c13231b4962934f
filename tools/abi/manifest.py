#!/usr/bin/env python3
"""manifest.py — the machine-readable manifest of the Beskid runtime ABI.

    manifest.py generate DUMP_JSON HEADER...                       print the manifest
    manifest.py check DUMP_JSON MANIFEST BUNDLE ABI_NAMES HEADER...

The manifest lists every entry point of the ABI headers (libs/builtins' beskid/runtime_abi.h,
declarations marked BESKID_RT_API, and libs/stdhost's beskid/stdhost.h, marked BESKID_STD_API)
with its parameters and result as Cranelift types (i64, i32, i8, f64, ptr) and whether it is a
safepoint (its comment says "Safepoint"), every exported object, every layout's size and field
offsets and the ABI constants.
Layouts, constants and the JIT symbol table come from DUMP_JSON, the output of abi_dump (the
compiled runtime measuring itself).

`check` fails when any two of these disagree: the headers, the committed manifest, the JIT symbol
table, the symbols the bundle defines, and the bundle's list of unprefixed ABI names.
"""
import json
import re
import subprocess
import sys

C_TO_CLIF = {
    "int64_t": "i64", "uint64_t": "i64", "int32_t": "i32", "uint32_t": "i32",
    "uint8_t": "i8", "bool": "i8", "double": "f64", "size_t": "i64", "void": None,
}


def clif_type(ctype):
    ctype = ctype.replace("const", "").replace("_Noreturn", "").strip()
    # Pointers, and function-pointer typedefs (named `..._fn` by the headers' convention).
    if ctype.endswith("*") or ctype.endswith("_fn"):
        return "ptr"
    if ctype not in C_TO_CLIF:
        raise SystemExit(f"manifest: no Cranelift type for C type '{ctype}'")
    return C_TO_CLIF[ctype]


def parse_header(path):
    text = open(path, encoding="utf-8").read()
    functions, objects = [], []
    # A declaration is a doc comment followed by BESKID_RT_API or BESKID_STD_API ... ; (one
    # statement).
    pattern = re.compile(
        r"/\*\*(?P<doc>(?:(?!\*/).)*)\*/\s*BESKID_(?:RT|STD)_API\s+(?P<decl>[^;{]+);", re.S)
    for m in pattern.finditer(text):
        decl = " ".join(m.group("decl").split())
        doc = m.group("doc")
        fm = re.match(r"(?P<ret>.+?[\s\*])(?P<name>\w+)\s*\((?P<params>.*)\)$", decl)
        if not fm:
            continue
        params = [p.strip() for p in fm.group("params").split(",") if p.strip() not in ("", "void")]
        ptypes = []
        for p in params:
            pm = re.match(r"(.+?[\s\*])(\w+)$", p)
            ptypes.append(clif_type(pm.group(1) if pm else p))
        ret = fm.group("ret").strip()
        functions.append({
            "name": fm.group("name"),
            "params": ptypes,
            "result": "never" if "_Noreturn" in ret else clif_type(ret),
            "safepoint": bool(re.search(r"\bSafepoint\b", doc)),
        })
    return functions, objects


def generate(dump_path, headers):
    functions = []
    for header in headers:
        functions += parse_header(header)[0]
    dump = json.load(open(dump_path))
    return {
        "abi_version": [dump["constants"]["abi_version_major"], dump["constants"]["abi_version_minor"]],
        "calling_convention": "C (Cranelift CallConv for the host ISA)",
        "functions": sorted(functions, key=lambda f: f["name"]),
        "objects": [{"name": "beskid_gc_barrier_on", "type": "i8",
                     "meaning": "non-zero while the write barrier must run"}],
        "layouts": dump["layouts"],
        "constants": dump["constants"],
    }


def fail(errors):
    for e in errors:
        print(f"manifest: {e}", file=sys.stderr)
    sys.exit(1)


def check(dump_path, manifest_path, bundle, abi_names_path, headers):
    errors = []
    expected = generate(dump_path, headers)
    seen = set()
    for f in expected["functions"]:
        if f["name"] in seen:
            errors.append(f"{f['name']} is declared twice")
        seen.add(f["name"])
    committed = json.load(open(manifest_path))
    if committed != expected:
        errors.append(f"{manifest_path} is out of date with the header or the runtime: "
                      "regenerate it with `manifest.py generate`")
    dump = json.load(open(dump_path))
    names = {f["name"] for f in expected["functions"]} | {o["name"] for o in expected["objects"]}
    table = set(dump["symbols"])
    for n in sorted(names - table):
        errors.append(f"{n} is in the header but not in the JIT symbol table")
    for n in sorted(table - names):
        errors.append(f"{n} is in the JIT symbol table but not declared in a header")
    nm = subprocess.run(["nm", "-g", "--defined-only", bundle], capture_output=True, text=True, check=True)
    defined = {line.split()[2] for line in nm.stdout.splitlines() if len(line.split()) == 3}
    for n in sorted(names - defined):
        errors.append(f"{n} is declared but the bundle does not define it")
    unprefixed = {n for n in names if not n.startswith("beskid_")}
    listed = set()
    for line in open(abi_names_path):
        line = line.split("#")[0].strip()
        if line:
            listed.add(line)
    for n in sorted(unprefixed - listed):
        errors.append(f"{n} is an unprefixed ABI name missing from {abi_names_path}")
    for n in sorted(listed - unprefixed - {"main", "_ZSt15get_new_handlerv"}):
        errors.append(f"{n} is allowed by {abi_names_path} but is not in the ABI")
    if errors:
        fail(errors)
    print(f"manifest: {len(expected['functions'])} functions, {len(expected['layouts'])} layouts; "
          "header, manifest, symbol table and bundle agree")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "generate":
        json.dump(generate(sys.argv[2], sys.argv[3:]), sys.stdout, indent=2, sort_keys=True)
        print()
    elif len(sys.argv) >= 7 and sys.argv[1] == "check":
        check(*sys.argv[2:6], sys.argv[6:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
