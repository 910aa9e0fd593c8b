"""Issue 22, item 6 (the README read by a newcomer): each command's help lists only the variables it reads, and an
asset endpoint has one name across fetch, lookup and snapshot (``assets_images``, the snapshot's table name)."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

from lucidframes.cli import main

CLIENT = ("LUCID_BASE_URL", "LUCID_CLIENT_ID", "LUCID_CLIENT_SECRET", "LUCID_TOKEN", "TQDM_DISABLE")


def help_of(command: str) -> str:
    done = subprocess.run([sys.executable, "-m", "lucidframes", command, "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("command", "reads"),
    [
        ("fetch", CLIENT),
        ("snapshot", CLIENT),
        ("lookup", (*CLIENT, "LUCID_ID_LENGTH")),  # the LucidIDs are checked before anything is sent
        ("validate", ("LUCID_ID_LENGTH",)),
        ("endpoints", ()),
        ("sandbox", ()),
    ],
)
def test_each_help_lists_only_the_variables_its_command_reads(command, reads):
    section = re.search(r"^environment[^\n]*:\n((?:  .*\n?)+)", help_of(command), flags=re.M)
    listed = set(re.findall(r"\b(LUCID_[A-Z_]+|TQDM_DISABLE)\b", section[1])) if section else set()
    assert listed == set(reads), (command, sorted(listed))


def test_assets_images_is_one_name_for_fetch_lookup_and_snapshot(tmp_path, capsys):
    one, other = tmp_path / "one.csv", tmp_path / "other.csv"
    assert main(["fetch", "assets_images", "--sandbox", "--no-progress", "-o", str(one)]) == 0
    assert (
        main(["fetch", "assets", "--param", "asset_type=images", "--sandbox", "--no-progress", "-o", str(other)]) == 0
    )
    images = pd.read_csv(one, dtype=str)
    pd.testing.assert_frame_equal(images, pd.read_csv(other, dtype=str))
    ids = tmp_path / "ids.csv"
    images[["uuid"]].head(3).to_csv(ids, index=False)
    looked = tmp_path / "looked.csv"
    assert main(["lookup", "assets_images", str(ids), "--column", "uuid", "--sandbox", "-o", str(looked)]) == 0
    assert pd.read_csv(looked, dtype=str)["_status"].tolist() == ["ok"] * 3
    snap = tmp_path / "snap"
    assert main(["snapshot", "--endpoint", "assets_images", "--sandbox", "--format", "csv", "-o", str(snap)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(snap / "assets_images.csv", dtype=str), images)
    capsys.readouterr()
    assert main(["fetch", "assets_images", "--param", "asset_type=texts", "--sandbox", "-o", str(one)]) == 2
    assert "'assets_images' already means {'asset_type': 'images'}" in capsys.readouterr().err


def test_the_sandbox_names_the_variables_it_prints_without_listing_them_as_read():
    assert "It reads no LUCID_* variable: it prints the export lines" in help_of("sandbox")
