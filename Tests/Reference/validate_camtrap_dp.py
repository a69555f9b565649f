"""Validates a Camtrap DP package against the official Camtrap DP 1.0.2 profile and table schemas, offline.

Usage: validate_camtrap_dp.py PACKAGE_DIR SCHEMA_DIR
PACKAGE_DIR holds datapackage.json and its CSV files; SCHEMA_DIR is Tests/Reference/camtrap-dp (the official
files; see its README). Prints "valid", or the problems (at most MAX_SHOWN lines); exit status 0 when valid,
1 when not, 2 on a usage error.

A package names its profile and table schemas by URL (raw.githubusercontent.com/tdwg/camtrap-dp/1.0.2/...), and
the profile names two more schemas by URL (the Frictionless data-package profile 1.0 and GeoJSON). There is no
network here, so while `frictionless` validates, those documents are served from memory on a loopback HTTP
port, and an in-memory copy of the descriptor points at them; the package folder is only read. The loopback
paths keep `/tdwg/camtrap-dp/1.0.2/`, so the profile's version pattern on schema URLs holds as written; the one
change to the profile is where its two external `$ref`s point. Before redirecting them, the package's own URLs
are checked to be the official 1.0.2 ones. When the profile refuses the descriptor, frictionless reads no table,
so the tables are then checked in a second run without the profile. The profile's `date` and `date-time`
formats, which frictionless leaves unchecked, are checked against the same documents with jsonschema.
"""

import http.server
import json
import sys
import threading
from pathlib import Path

OFFICIAL = "https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0.2/"
SPEC = "/tdwg/camtrap-dp/1.0.2/"  # the loopback folder of the profile and the table schemas
PROFILE = "camtrap-dp-profile.json"
TABLES = ("deployments", "media", "observations")
# The profile's external "$ref"s and the loopback paths of their stand-ins.
EXTERNAL = {
    "https://specs.frictionlessdata.io/schemas/data-package.json": "/frictionless/data-package.json",
    "http://json.schemastore.org/geojson.json": "/frictionless/geojson.json",
}
MAX_SHOWN = 20
PER_KIND = 3  # messages shown for each kind of error in one field of one table


def table_schema(name: str) -> str:
    return f"{name}-table-schema.json"


def redirect_refs(node: object, targets: dict[str, str]) -> object:
    """A copy of a JSON Schema with each `$ref` that `targets` names replaced by its target."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            node = {**node, "$ref": targets.get(node["$ref"], node["$ref"])}
        return {key: redirect_refs(value, targets) for key, value in node.items()}
    if isinstance(node, list):
        return [redirect_refs(item, targets) for item in node]
    return node


def documents(schema_dir: Path, geojson: Path, base: str) -> dict[str, bytes]:
    """What the loopback server answers: URL path -> body."""
    profile = json.loads((schema_dir / PROFILE).read_text(encoding="utf-8"))
    targets = {url: base + path for url, path in EXTERNAL.items()}
    served = {
        SPEC + PROFILE: json.dumps(redirect_refs(profile, targets)).encode(),
        EXTERNAL["https://specs.frictionlessdata.io/schemas/data-package.json"]: (
            schema_dir / "data-package-profile-1.0.json"
        ).read_bytes(),
        EXTERNAL["http://json.schemastore.org/geojson.json"]: geojson.read_bytes(),
    }
    for name in TABLES:
        served[SPEC + table_schema(name)] = (schema_dir / table_schema(name)).read_bytes()
    return served


class LoopbackServer:
    """Serves `documents` (URL path -> body) on 127.0.0.1, a free port, from a thread while in a `with`."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        served = self.documents

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = served.get(self.path.split("?", 1)[0])
                self.send_response(404 if body is None else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def redirect_descriptor(descriptor: dict, base: str) -> list[str]:
    """Points the descriptor's profile and table schemas at the loopback copies, in place; returns what is wrong
    with the URLs it had."""
    problems = []
    if descriptor.get("profile") != OFFICIAL + PROFILE:
        problems.append(f"package: profile is {descriptor.get('profile')!r}, not {OFFICIAL + PROFILE}")
    descriptor["profile"] = base + SPEC + PROFILE
    for resource in descriptor.get("resources", []):
        if not isinstance(resource, dict) or resource.get("name") not in TABLES:
            continue
        schema = resource.get("schema")
        if not isinstance(schema, str):
            continue  # a missing or malformed schema is the profile's to report
        wanted = table_schema(resource["name"])
        if schema != OFFICIAL + wanted:
            problems.append(f"resource {resource['name']}: schema is {schema!r}, not {OFFICIAL + wanted}")
        resource["schema"] = base + SPEC + wanted
    return problems


def format_problems(descriptor: dict, served: dict[str, bytes], base: str) -> list[str]:
    """The profile's `date` and `date-time` formats (`temporal`, `created`), which frictionless does not check."""
    import jsonschema
    from referencing import Registry, Resource

    schemas = [SPEC + PROFILE, *EXTERNAL.values()]  # the JSON Schemas among the documents; each names its draft
    registry = Registry().with_resources(
        (base + path, Resource.from_contents(json.loads(served[path]))) for path in schemas
    )
    profile = json.loads(served[SPEC + PROFILE])
    validator = jsonschema.validators.validator_for(profile)(
        {"$ref": base + SPEC + PROFILE},
        registry=registry,
        format_checker=jsonschema.FormatChecker(formats=("date", "date-time")),
    )
    return [
        f"package: {error.message} at property '{'/'.join(map(str, error.absolute_path))}'"
        for error in validator.iter_errors(descriptor)
        if error.validator == "format"
    ]


def summarise(task: str, errors: list) -> list[str]:
    """The messages; of the errors in rows, at most PER_KIND of each kind in each field, then how many more."""
    lines: list[str] = []
    kinds: dict[tuple[str, str | None], list[str]] = {}
    for error in errors:
        if getattr(error, "row_number", None) is None:
            lines.append(f"{task}: {error.message}")
        else:
            kinds.setdefault((error.type, getattr(error, "field_name", None)), []).append(error.message)
    for (kind, field), messages in kinds.items():
        lines += [f"{task}: {message}" for message in messages[:PER_KIND]]
        if len(messages) > PER_KIND:
            where = f" in field {field}" if field else ""
            lines.append(f"{task}: ... and {len(messages) - PER_KIND} more {kind}{where}")
    return lines


def validate(package_dir: Path, schema_dir: Path) -> list[str]:
    """What is wrong with the package; empty when it is valid."""
    import frictionless
    import requests

    try:
        descriptor = json.loads((package_dir / "datapackage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [f"datapackage.json: {error}"]
    if not isinstance(descriptor, dict):
        return ["datapackage.json: not a JSON object"]
    geojson = Path(frictionless.__file__).parent / "assets" / "profiles" / "geojson.json"
    session = requests.Session()
    session.trust_env = False  # no proxy for the loopback address, whatever the environment says
    with session, LoopbackServer() as server, frictionless.system.use_context(http_session=session):
        served = documents(schema_dir, geojson, server.base)
        server.documents.update(served)
        problems = redirect_descriptor(descriptor, server.base)
        try:
            report = frictionless.validate(descriptor, basepath=str(package_dir))
            tasks = report.tasks
            if report.errors and not tasks:
                # frictionless reads no table of a descriptor its profile refuses: check the tables once more
                # under the plain Data Package profile, so that one run lists both kinds of problem.
                plain = {key: value for key, value in descriptor.items() if key != "profile"}
                tasks = frictionless.validate(plain, basepath=str(package_dir)).tasks
        except frictionless.FrictionlessException as error:
            return [*problems, f"package: {error}"]
    problems += summarise("package", report.errors)
    for task in tasks:
        problems += summarise(task.name, task.errors)
    return problems + format_problems(descriptor, served, server.base)


def main(arguments: list[str]) -> int:
    if len(arguments) != 2:
        print("usage: validate_camtrap_dp.py PACKAGE_DIR SCHEMA_DIR", file=sys.stderr)
        return 2
    package_dir, schema_dir = (Path(argument).resolve() for argument in arguments)
    if not (package_dir / "datapackage.json").is_file():
        print(f"validate_camtrap_dp.py: no datapackage.json in {package_dir}", file=sys.stderr)
        return 2
    needed = [PROFILE, "data-package-profile-1.0.json", *map(table_schema, TABLES)]
    missing = [name for name in needed if not (schema_dir / name).is_file()]
    if missing:
        print(f"validate_camtrap_dp.py: {schema_dir} lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    problems = validate(package_dir, schema_dir)
    if not problems:
        print("valid")
        return 0
    print("\n".join(problems[:MAX_SHOWN]))
    if len(problems) > MAX_SHOWN:
        print(f"... and {len(problems) - MAX_SHOWN} more lines")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
