#!/usr/bin/env python3
"""Builds the Swagger 2.0 document that `GET resource/swagger_doc` serves from the API contract
(the seed markdown, itself rendered from Barong 2.7's grape-swagger output).

    tools/swagger_from_seed.py ../shared/seed/barong-api-2.7.md > barongd/src/http/resource/swagger_resource.json
    tools/swagger_from_seed.py --all ../shared/seed/barong-api-2.7.md > tests/fixtures/barong-api-2.7.json

The results are committed. barongd embeds the first: only the resource API is documented there,
as in Barong, where each Grape API mounted its own `swagger_doc`. The second (every operation of
the contract, base path `/api/v2/barong`) drives the test that every operation is routed.
"""

import json
import re
import sys

PREFIX = "/api/v2/barong/resource"
# Operations that answer a list of the entity their 200 names: grape-swagger lost Barong's
# `is_array: true`, so the contract shows one object where Barong (and barongd) send an array.
COLLECTIONS = {
    ("/api_keys", "get"),
    ("/documents", "get"),
    ("/labels", "get"),
    ("/phones", "get"),
    ("/profiles/me", "get"),
    ("/service_accounts/api_keys", "get"),
    ("/users/activity/{topic}", "get"),
}
TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "object": "object"}


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table(lines, i):
    """The rows of the markdown table starting at line i (header and rule skipped)."""
    rows = []
    i += 2
    while i < len(lines) and lines[i].startswith("|"):
        rows.append(cells(lines[i]))
        i += 1
    return rows, i


def ref(cell):
    m = re.search(r"\[([A-Za-z0-9_]+)\]\(#", cell)
    return m.group(1) if m else None


def schema_type(t):
    if t == "date":
        return {"type": "string", "format": "date"}
    return {"type": TYPES.get(t, "string")}


def parse(text):
    lines = text.splitlines()
    info = {"title": lines[0].lstrip("# ").strip(), "description": lines[1].strip()}
    paths, models = {}, {}
    path = method = model = section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("### ") and line[4:].startswith("/"):
            path, model = line[4:].strip(), None
        elif line.strip() == "### Models":
            path = None
        elif line.startswith("#### ") and path:
            method = line[5:].strip().lower()
            paths.setdefault(path, {})[method] = {"description": "", "parameters": [], "responses": {}}
        elif line.startswith("#### ") and path is None:
            model = line[5:].strip()
            models[model] = {"type": "object", "properties": {}}
            # The line after the heading, when it is prose, describes the model.
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and not lines[j].startswith("|"):
                models[model]["description"] = lines[j].strip()
        elif line.startswith("##### "):
            section = line[6:].strip()
        elif line.startswith("|") and path and method:
            rows, i = table(lines, i)
            op = paths[path][method]
            if section == "Parameters":
                for name, where, desc, required, typ in rows:
                    p = {"in": where, "name": name, "description": desc, "required": required == "Yes"}
                    p.update(schema_type(typ))
                    op["parameters"].append(p)
            elif section == "Responses":
                for row in rows:
                    r = {"description": row[1]}
                    if len(row) > 2 and ref(row[2]):
                        r["schema"] = {"$ref": "#/definitions/" + ref(row[2])}
                    op["responses"][row[0]] = r
            continue
        elif line.startswith("|") and model:
            rows, i = table(lines, i)
            for name, typ, desc, _required in rows:
                target = ref(typ)
                if target and typ.startswith("["):
                    prop = {"type": "array", "items": {"$ref": "#/definitions/" + target}}
                elif target:
                    prop = {"$ref": "#/definitions/" + target}
                elif desc.startswith("Submasked"):
                    # A masked value (`1990-05-**`) is no longer of its type's format.
                    prop = {"type": "string"}
                else:
                    prop = schema_type(typ)
                if desc:
                    prop["description"] = desc
                # Grape entities expose a missing value as null (a profile's unset city, a user's
                # empty data); Swagger 2.0 says so with this extension only.
                prop["x-nullable"] = True
                models[model]["properties"][name] = prop
            continue
        elif path and method and section == "Description" and line.strip():
            paths[path][method]["description"] = line.strip()
        i += 1
    return info, paths, models


def operation_id(method, rel):
    words = [w for w in re.split(r"[/_{}]", rel) if w]
    return method + "V2" + ("Resource" if PREFIX.endswith("/resource") else "") + "".join(w[:1].upper() + w[1:] for w in words)


def refs_in(node, found):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                found.add(v.rsplit("/", 1)[1])
            else:
                refs_in(v, found)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, found)


def main():
    args = sys.argv[1:]
    everything = "--all" in args
    args = [a for a in args if a != "--all"]
    global PREFIX
    if everything:
        PREFIX = "/api/v2/barong"
    info, paths, models = parse(open(args[0], encoding="utf-8").read())
    out_paths, tags = {}, []
    for path, ops in paths.items():
        if not path.startswith(PREFIX + "/") or ("swagger_doc" in path and not everything):
            continue
        rel = path[len(PREFIX):]
        tag = rel.split("/")[1]
        if tag not in tags:
            tags.append(tag)
        for method, op in ops.items():
            ok = op["responses"].get("200", {})
            if (rel.replace("/resource", "", 1) if everything else rel, method) in COLLECTIONS and "schema" in ok:
                ok["schema"] = {"type": "array", "items": ok["schema"]}
            op["produces"] = ["application/json"]
            op["tags"] = [tag]
            op["operationId"] = operation_id(method, rel)
            if not op["parameters"]:
                del op["parameters"]
        out_paths[rel] = ops
    # Definitions reachable from the documented operations.
    needed, todo = set(), set()
    refs_in(out_paths, todo)
    while todo:
        name = todo.pop()
        if name in needed or name not in models:
            continue
        needed.add(name)
        refs_in(models[name], todo)
    doc = {
        "info": {"title": info["title"], "description": info["description"], "version": "2.7.0"},
        "swagger": "2.0",
        "produces": ["application/json"],
        "basePath": PREFIX,
        "tags": [{"name": t, "description": "Operations about " + t} for t in tags],
        "paths": out_paths,
        "definitions": {k: models[k] for k in sorted(needed)},
    }
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
