"""validate_camtrap_dp.py against the official Camtrap DP 1.0.2 example package: the example validates, and
copies broken in one place each (a table, the descriptor, the profile's own rules) do not. That shows the
offline set-up (loopback server, redirected URLs) really applies the official profile and table schemas."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import validate_camtrap_dp

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "camtrap-dp"
EXAMPLE = SCHEMAS / "example"


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A writable copy of the official example."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "package", copy_function=shutil.copyfile))


def edit_descriptor(package: Path, edit) -> None:
    path = package / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    edit(descriptor)
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")


def problems(package: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Runs the validator; expects it to find the package invalid and returns what it printed."""
    assert validate_camtrap_dp.main([str(package), str(SCHEMAS)]) == 1
    output = capsys.readouterr().out
    assert output.strip() != "valid"
    return output


def test_the_official_example_is_valid_and_left_alone():
    before = contents(EXAMPLE)
    result = subprocess.run(
        [sys.executable, str(HERE / "validate_camtrap_dp.py"), str(EXAMPLE), str(SCHEMAS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "valid"), result.stdout + result.stderr
    assert contents(EXAMPLE) == before


def break_observation_type(package: Path) -> None:
    """The first observation's type becomes a word the observations table schema does not allow."""
    table = package / "observations.csv"
    lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    row = lines[1].rstrip("\r\n").split(",")
    assert row[header.index("observationType")] == "animal"
    row[header.index("observationType")] = "werewolf"
    lines[1] = ",".join(row) + "\n"
    table.write_text("".join(lines), encoding="utf-8")


def test_an_unknown_observation_type_is_refused(package, capsys):
    break_observation_type(package)
    output = problems(package, capsys)
    assert "werewolf" in output and "observationType" in output


def test_a_package_without_a_project_is_refused(package, capsys):
    edit_descriptor(package, lambda descriptor: descriptor.pop("project"))
    assert "'project' is a required property" in problems(package, capsys)


def test_one_run_lists_descriptor_and_table_problems(package, capsys):
    # frictionless reads no table of a refused descriptor; the validator checks the tables all the same.
    break_observation_type(package)
    edit_descriptor(package, lambda descriptor: descriptor.pop("project"))
    output = problems(package, capsys)
    assert "'project' is a required property" in output and "werewolf" in output


def test_a_taxon_rank_outside_the_profile_is_refused(package, capsys):
    # The observations keep their scientific names; only the descriptor's `taxonomic` entry is wrong.
    def tribe(descriptor):
        descriptor["taxonomic"][0]["taxonRank"] = "tribe"

    edit_descriptor(package, tribe)
    output = problems(package, capsys)
    assert "'tribe' is not one of" in output and "taxonomic/0/taxonRank" in output


def test_a_date_that_is_not_a_date_is_refused(package, capsys):
    # The profile's `format: date`, which frictionless itself does not check.
    edit_descriptor(package, lambda descriptor: descriptor["temporal"].update(start="2020-13-01"))
    assert "is not a 'date' at property 'temporal/start'" in problems(package, capsys)


def test_schema_urls_must_be_the_official_1_0_2_ones(package, capsys):
    def older(descriptor):
        descriptor["profile"] = descriptor["profile"].replace("/1.0.2/", "/1.0/")
        descriptor["resources"][1]["schema"] = descriptor["resources"][1]["schema"].replace("/1.0.2/", "/1.0/")

    edit_descriptor(package, older)
    output = problems(package, capsys)
    assert "package: profile is 'https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0/" in output
    assert "resource media: schema is 'https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0/" in output


def test_usage_errors_exit_2(tmp_path, capsys):
    assert validate_camtrap_dp.main([str(EXAMPLE)]) == 2
    assert validate_camtrap_dp.main([str(tmp_path), str(SCHEMAS)]) == 2
    assert validate_camtrap_dp.main([str(EXAMPLE), str(tmp_path)]) == 2
    assert capsys.readouterr().out == ""
