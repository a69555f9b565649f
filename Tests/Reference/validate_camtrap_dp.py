"""Validates a Camtrap DP package written by `trapline export camtrap-dp` with frictionless.

Usage: validate_camtrap_dp.py PACKAGE_DIR SCHEMA_DIR
The package references the official schema URLs; with no network here, a copy of the package is validated
against the table schemas in SCHEMA_DIR instead, and the package-level properties that the Camtrap DP profile
requires are checked directly. Prints "valid" or the errors, exit status 0 or 1.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from frictionless import Package

REQUIRED = ["resources", "profile", "created", "contributors", "project", "spatial", "temporal", "taxonomic"]
PROJECT = ["title", "samplingDesign", "captureMethod", "individualAnimals", "observationLevel"]


def main() -> int:
    package_dir, schema_dir = Path(sys.argv[1]), Path(sys.argv[2])
    descriptor = json.loads((package_dir / "datapackage.json").read_text())
    problems = [f"missing package property {key}" for key in REQUIRED if key not in descriptor]
    problems += [f"missing project property {key}" for key in PROJECT if key not in descriptor.get("project", {})]
    if [r["name"] for r in descriptor.get("resources", [])] != ["deployments", "media", "observations"]:
        problems.append("resources must be deployments, media, observations")
    with tempfile.TemporaryDirectory() as work:
        for resource in descriptor["resources"]:
            shutil.copy(package_dir / resource["path"], Path(work) / resource["path"])
            shutil.copy(schema_dir / f"{resource['name']}-table-schema.json", Path(work))
            resource["schema"] = f"{resource['name']}-table-schema.json"
        descriptor.pop("profile", None)
        (Path(work) / "datapackage.json").write_text(json.dumps(descriptor))
        report = Package(str(Path(work) / "datapackage.json")).validate()
        if not report.valid:
            for task in report.tasks:
                for error in task.errors[:20]:
                    problems.append(f"{task.name}: {error.message}")
    if problems:
        print("\n".join(problems))
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
