"""Issue 22 in a real kernel (nbclient): tqdm.notebook's bar counts a wait down while it happens (it froze on "next
request in 59.9 s"), and a background job shows its own widget while the next cells run, then is awaited.

The countdown is read in the kernel by a thread that samples the bar's text during a real wait of about 1.5 s.
"""

from __future__ import annotations

import json
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.notebooks

SETUP = """
import json, threading, time
import lucidframes as lf
from lucidframes.loaders import progress
from lucidframes.sandbox import serve
from tqdm.auto import tqdm
progress.BAR_DELAY = 0
sb = serve(rate_limits=None)
ids = [item["uuid"] for item in sb.data["items"][:6]]
client = lf.Client(sb.url, sb.client_id, sb.client_secret, rate_limits={"source": (4, 1.5)}, workers=2)
"""

SAMPLE = """
seen, done = [], threading.Event()

def sample():  # what the bar shows, every 0.2 s, while the look-up waits in the cell's own thread
    while not done.wait(0.2):
        seen.extend(b.container.children[2].value for b in list(tqdm._instances) if hasattr(b, "container"))

threading.Thread(target=sample, daemon=True).start()
df = client.lookup("items", ids)
done.set()
print(json.dumps({"rows": len(df), "seen": seen}))
"""

JOB = """
job = client.lookup("items", ids, background=True)
job
"""

WHILE = "print(json.dumps({'two': 1 + 1, 'job_done': job.done}))"
AWAIT = "df = await job\nprint(json.dumps({'rows': len(df), 'status': job.status}))"


def _printed(cell) -> dict:
    return json.loads(next(o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stdout"))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    cells = [SETUP, SAMPLE, JOB, WHILE, AWAIT, "client.close(); sb.close()"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    workdir = tmp_path_factory.mktemp("kernel-watch")
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=False, store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )  # fmt: skip
    client.execute()
    nbformat.write(nb, workdir / "executed.ipynb")
    return nb


def test_the_notebook_bar_counts_the_wait_down(executed):
    out = _printed(executed.cells[1])
    assert out["rows"] == 6
    shown = [text.replace("\u2007", " ") for text in out["seen"]]
    lefts = [float(m[1]) for t in shown if (m := re.search(r"next request in ([\d.]+) s", t))]
    assert len(set(lefts)) >= 3 and lefts == sorted(lefts, reverse=True), shown  # 2 s, 1 s, 0.8 s ... down


def test_a_job_shows_its_own_bar_and_the_kernel_stays_usable(executed):
    job_cell = executed.cells[2]
    views = [o for o in job_cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views and "<Job items" in views[0]["data"]["text/plain"]
    models = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    boxes = [m["state"] for m in models.values() if "lucidframes-job" in m["state"].get("_dom_classes", [])]
    assert boxes, "no widget of the job"
    assert _printed(executed.cells[3]) == {"two": 2, "job_done": False}  # ran while the job waited
    awaited = _printed(executed.cells[4])
    assert awaited["rows"] == 6 and awaited["status"].endswith(" · done")
