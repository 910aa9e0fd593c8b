"""In a real kernel (nbclient, this venv's python3): the short error block, ``%tb`` whole, and tqdm.notebook's bar.

The bar is checked through the widget state the kernel published (nbclient stores it in the notebook's
metadata): the progress model's max (the page count), its layout (not tqdm's 20 px box) and the postfix text;
the postfix during a wait is read in the kernel, from the sleep hook, while the wait "happens".
"""

from __future__ import annotations

import json
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.notebooks  # one pytest-xdist worker runs them all: XDIST_GROUPS in conftest.py

ANSI = re.compile(r"\x1b\[[0-9;]*m")

SETUP = """
import lucidframes as lf
from lucidframes.sandbox import serve
sb = serve(rate_limits=None)
client = lf.Client(sb.url, sb.client_id, sb.client_secret, rate_limits=None, progress=False)
"""

BAR = """
import json
from tqdm.auto import tqdm
from lucidframes.loaders import progress
progress.BAR_DELAY = 0  # the sandbox drains in well under the delay
seen = []

def sleep(seconds):  # the wait hook: read what the bars show while the wait is going on
    seen.append([b.container.children[2].value for b in list(tqdm._instances)])

sb.fault("/api/v1.5/products/?page=3", status=503, times=1)
timed = lf.Client(sb.url, sb.client_id, sb.client_secret, rate_limits={"source": (12, 60.0)}, sleep=sleep)
df = timed.load("products", workers=2)
print(json.dumps({"rows": len(df), "seen": seen}))
"""


def cell_text(cell) -> str:
    """All the text a cell's outputs hold (ANSI colours removed)."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "error":
            parts.extend(out["traceback"])
        elif out["output_type"] == "stream":
            parts.append(out["text"])
        else:
            parts.append(json.dumps(out.get("data", {})))
    return ANSI.sub("", "\n".join(parts))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    warn = 'import warnings\nwarnings.warn("the data changed", lf.DriftWarning)\nwarnings.warn("other", UserWarning)'
    cells = [SETUP, 'client.load("products", page=999)', "%tb", BAR, warn, "client.close(); timed.close(); sb.close()"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    workdir = tmp_path_factory.mktemp("kernel")
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )  # fmt: skip
    client.execute()
    nbformat.write(nb, workdir / "executed.ipynb")  # kept with the test's files, for a look
    return nb


def test_a_lucid_error_cell_shows_the_short_block(executed):
    cell = executed.cells[1]
    errors = [o for o in cell.outputs if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "NotFoundError"
    text = cell_text(cell)
    lines = text.splitlines()
    assert lines[0].startswith("NotFoundError: GET http://127.0.0.1:") and "Invalid page" in lines[0]
    assert "What to do:" in text and "Request:    GET /api/v1.5/products/?page=999 · status 404 · 1 attempt" in text
    assert "%tb" in lines[-1]
    assert len(lines) <= 6
    assert "File " not in text and "concurrent/futures" not in text and "Traceback" not in text


def test_percent_tb_gives_the_full_traceback(executed):
    text = cell_text(executed.cells[2])
    assert "Traceback" in text and "NotFoundError" in text
    assert "lucidframes/loaders/stream.py" in text and "lucidframes/_http/transport.py" in text
    assert len(text.splitlines()) > 30


def _models(nb) -> dict[str, dict]:
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return {k: v for k, v in state.items()}


def test_the_tqdm_widget_is_full_width_and_counts_pages(executed):
    models = _models(executed)
    bars = [m["state"] for m in models.values() if m["model_name"] in ("FloatProgressModel", "IntProgressModel")]
    drain = [b for b in bars if b.get("max") == 13]
    assert drain, f"no progress bar with the page count as its total: {[b.get('max') for b in bars]}"
    bar = drain[-1]
    assert bar["value"] == 13 and bar.get("bar_style") == "success"
    layout = models[bar["layout"].removeprefix("IPY_MODEL_")]["state"]
    assert layout.get("width") != "20px"
    boxes = [m["state"] for m in models.values() if m["model_name"] == "HBoxModel"]
    box = next(b for b in boxes if f"IPY_MODEL_{_id_of(models, bar)}" in b["children"])
    assert models[box["layout"].removeprefix("IPY_MODEL_")]["state"].get("width") == "100%"
    postfix = models[box["children"][2].removeprefix("IPY_MODEL_")]["state"]["value"].replace("\u2007", " ")
    assert "13/13" in postfix and "rows=1203" in postfix and "retries=1" in postfix


def _id_of(models: dict[str, dict], state: dict) -> str:
    return next(k for k, v in models.items() if v["state"] is state)


def test_the_bar_shows_the_wait_while_it_happens(executed):
    out = json.loads(next(o["text"] for o in executed.cells[3].outputs if o["output_type"] == "stream"))
    assert out["rows"] == 1203
    shown = [text.replace("\u2007", " ") for texts in out["seen"] for text in texts]
    assert any("503 · retry 1/5 in 1 s" in t for t in shown), shown
    assert any("rate limited · next request in" in t for t in shown), shown


def test_a_lucidframes_warning_is_one_line(executed):
    err = "".join(o["text"] for o in executed.cells[4].outputs if o.get("name") == "stderr")
    assert "DriftWarning: the data changed\n" in err
    assert err.splitlines()[0] == "DriftWarning: the data changed" and err.count("DriftWarning") == 1
    assert "UserWarning: other" in err  # other warnings keep Python's format (file and line)


def test_a_kernel_interrupt_during_a_drain_keeps_the_rows_and_says_so(tmp_path):
    import signal
    import threading
    import time

    cells = [
        SETUP + "sb.set_latency(0.4)\nstarted = []",
        'started.append(1)\nclient.load("products", workers=1)',
        "err = lf.last_error()\nprint(type(err).__name__, 0 < len(err.partial) < 1203, err.resume is not None)",
        "client.close(); sb.close()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    )
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        # ~2 s into a drain of 13 pages at 0.4 s each, one at a time: a kernel interrupt, as the Stop button of Jupyter
        kernel = client.km.provisioner.process  # the kernel this test started: SIGINT is Jupyter's interrupt
        timer = threading.Timer(2.0, kernel.send_signal, args=(signal.SIGINT,))
        timer.start()
        started = time.monotonic()
        client.execute_cell(nb.cells[1], 1)
        timer.join()
        assert time.monotonic() - started < 4.5, "the interrupt did not end the drain within a second or so"
        for index in (2, 3):
            client.execute_cell(nb.cells[index], index)
    text = cell_text(nb.cells[1])
    assert text.splitlines()[0].startswith("DrainInterrupted: The drain of 'products' was interrupted.")
    assert "Kept:" in text and "rows fetched before it stopped" in text and "Traceback" not in text
    assert cell_text(nb.cells[2]).strip() == "DrainInterrupted True True"
