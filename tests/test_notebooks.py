"""The notebooks in notebooks/ run top to bottom against the sandbox (nbclient, the python3 kernel of this venv).

Each runs on a copy of notebooks/ and data/ in a temporary directory, with notebooks/ as the working directory
(as in Jupyter), so the files they write stay out of the repository. No output may contain the sandbox's
client secret or a bearer token.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 120  # seconds per cell
# Something each notebook must have printed, so a notebook that silently does less fails.
EXPECTED = {
    "quickstart.ipynb": [
        "wrote 18 rows to",
        "out/case-items.csv",
        "<ValidationReport ok: 18 rows",
        "lucidframes-timeline",
        "What to do:",
        "('NotFoundError', 404)",
        "image/png",  # the chart: matplotlib comes with the notebooks extra (issue 22)
    ],
    "explorer.ipynb": [
        "((100, 6), 13, 100)",
        "((1203, 6), [1, 2, 3",
        "out/products-from-explorer.csv",
        "Plan: 18 requests: within the rate limit",
        "((18, ",
        "(True, True)",
        "lucidframes-timeline",
        "<Sandbox http://127.0.0.1:",  # lf.explore(sandbox=True) explores the shared sandbox, shown in one line
    ],
    "validate-before-submit.ipynb": ["14 failing cell(s) in 14 of 40 rows", "ready to submit", "Nothing was sent"],
}


def outputs_text(nb) -> str:
    """Every output of every cell, as one JSON text."""
    return json.dumps([cell.get("outputs", []) for cell in nb.cells], ensure_ascii=False)


@pytest.fixture(scope="module")
def sandbox_secret() -> str:
    """The client secret the notebooks' sandboxes use (default seed)."""
    from lucidframes.sandbox import serve

    with serve() as sb:
        return sb.client_secret


def test_every_notebook_is_covered():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_is_stored_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip the outputs"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_top_to_bottom(name, tmp_path, sandbox_secret):
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    workdir = tmp_path / "notebooks"
    nb = nbformat.read(workdir / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error (but in cells tagged as failing)
    failing = [c for c in nb.cells if "raises-exception" in c.get("metadata", {}).get("tags", [])]
    for cell in failing:  # the error shows as the short block, never a traceback
        (error,) = [o for o in cell.outputs if o["output_type"] == "error"]
        assert len(error["traceback"]) <= 6 and not any("File " in line for line in error["traceback"])
    text = json.dumps([c.get("outputs", []) for c in nb.cells if c not in failing], ensure_ascii=False)
    assert '"output_type": "error"' not in text
    text = outputs_text(nb)
    assert not list(workdir.glob("*.csv")) and not list(workdir.glob("*.parquet")), "files belong in notebooks/out/"
    for snippet in EXPECTED[name]:
        assert snippet in text, f"{name}: expected {snippet!r} in the outputs"
    assert sandbox_secret not in text
    assert "sandbox-secret-" not in text and "Bearer " not in text
