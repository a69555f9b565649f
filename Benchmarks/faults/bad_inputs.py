"""What the user sees for bad configurations and bad model files: runs `trapline run` (and `trapline classify`
for model files) with each, and prints a Markdown table of the case, the exit status and the message.

    python3 Benchmarks/faults/bad_inputs.py > table.md
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ring"))
import ringlab

CONFIGS = [
    ("unknown watch mode", "watch:\n  mode: fanotify\n"),
    ("batch size 0", "batch:\n  maxSize: 0\n"),
    ("batch size not a number", "batch:\n  maxSize: lots\n"),
    ("blank threshold above 1", "labels:\n  blankThreshold: 1.5\n"),
    ("prune level not one of the model's", "model:\n  level: 0.3\n"),
    ("model file missing", "model:\n  path: /nonexistent/model.safetensors\n"),
    ("catalog folder not writable", "catalog:\n  path: /proc/catalog.db\n"),
    ("YAML syntax error", "watch: [unclosed\n"),
    ("ring node address without port", 'ring:\n  nodes: ["pi1=10.0.0.1"]\n'),
    ("ring node name repeated", 'ring:\n  nodes: ["pi1=10.0.0.1:7401", "pi1=10.0.0.2:7401"]\n  node: pi1\n'),
    ("this node not in the ring", 'ring:\n  nodes: ["pi1=10.0.0.1:7401"]\n  node: pi9\n'),
    ("ring plan of the wrong length", 'ring:\n  nodes: ["pi1=h:1", "pi2=h:2"]\n  node: pi1\n  plan: [0, 18]\n'),
    ("ring credentials missing", 'ring:\n  nodes: ["pi1=127.0.0.1:7401"]\n  node: pi1\n  credentials: /nonexistent\n'),
    ("unknown wire encoding", "ring:\n  encoding: bfloat16\n"),
    ("unknown security", "ring:\n  security: none\n"),
    ("unknown control policy", "control:\n  policy: greedy\n"),
    ("static policy without levels", "control:\n  policy: static\n"),
    ("accuracy floor above 1", "control:\n  accuracyFloor: 1.5\n"),
]


def model_cases(folder: Path) -> list[tuple[str, Path]]:
    good = ringlab.MODEL.read_bytes()
    size = struct.unpack("<Q", good[:8])[0]
    cases = {
        "empty file": b"",
        "not a safetensors file (a JPEG)": ringlab.PHOTOS[0].read_bytes(),
        "truncated in the tensor data": good[: len(good) // 2],
        "header length larger than the file": struct.pack("<Q", len(good) * 2) + good[8:],
        "header not JSON": good[:8] + b"{" * size + good[8 + size :],
        "metadata without trapline's entry": struct.pack("<Q", 2) + b"{}",
    }
    out = []
    for name, data in cases.items():
        path = folder / (name.replace(" ", "-").replace("(", "").replace(")", "") + ".safetensors")
        path.write_bytes(data)
        out.append((name, path))
    return out


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return ((errors or lines or [""])[0]).replace("|", "\\|")[:220]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bad-inputs-"))
    print("| case | exit | what the user sees |")
    print("| --- | --- | --- |")
    for name, body in CONFIGS:
        config = folder / "trapline.yaml"
        base = f"watch:\n  folder: {folder / 'inbox'}\ncatalog:\n  path: {folder / 'catalog.db'}\n"
        text = body if body.startswith(("watch:", "catalog:")) else base + body
        if "model:" not in body:
            text += f"model:\n  path: {ringlab.MODEL}\n" if "model:" not in text else ""
        config.write_text(text)
        result = subprocess.run(
            [str(ringlab.BINARY), "run", "--config", str(config)], capture_output=True, text=True, timeout=60
        )
        print(f"| config: {name} | {result.returncode} | {first_line(result.stderr or result.stdout)} |")
    for name, path in model_cases(folder):
        result = subprocess.run(
            [str(ringlab.BINARY), "classify", "--model", str(path), str(ringlab.PHOTOS[0])],
            capture_output=True,
            text=True,
            timeout=60,
        )
        print(f"| model file: {name} | {result.returncode} | {first_line(result.stderr or result.stdout)} |")


if __name__ == "__main__":
    main()
