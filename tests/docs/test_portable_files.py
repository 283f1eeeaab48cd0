"""Committed files carry no absolute path of a machine: records name data sets by file name
and checksum (golden/train/data.py), so the repository reads the same wherever it is cloned."""

import re
import subprocess

import pytest
from tests.support.paths import REPO

# A path that starts at the root of a machine's file system: "/" + a top-level folder that
# holds user or scratch files, not preceded by a name character (so "DIR/work/" is relative).
ROOTS = ("work", "root", "home", "tmp", "Users", "mnt", "scratch", "private")
ABSOLUTE = re.compile(r"(?<![\w.~$-])/(?:" + "|".join(ROOTS) + r")/[\w.-]")


def committed_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.fail("git ls-files failed: the test needs the repository's git metadata")
    return [REPO / name for name in out.decode().split("\0") if name]


def test_pattern_finds_what_it_should():
    assert ABSOLUTE.search('"dataset": "' + "/" + 'work/shared/x.tar.xz"')
    assert ABSOLUTE.search("see " + "/" + "home/me/data")
    assert not ABSOLUTE.search("intermediate files go to `DIR/work/`")
    assert not ABSOLUTE.search("YoWASP maps /tmp to a private folder")


def test_no_committed_file_names_an_absolute_path():
    offenders = []
    files = committed_files()
    assert len(files) > 50
    for path in files:
        if not path.is_file():
            continue          # deleted in the work tree, not yet committed
        blob = path.read_bytes()
        if b"\0" in blob[:8192]:
            continue          # binary (images, archives)
        for number, line in enumerate(blob.decode("utf-8", "replace").splitlines(), 1):
            if ABSOLUTE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    assert offenders == []


def test_docs_point_into_the_repository():
    # The arithmetic contract is docs/arithmetic.md; no file names a contract outside the repo.
    outside = "CONTRACT" + ".md"
    offenders = [str(p.relative_to(REPO)) for p in committed_files()
                 if p.is_file() and outside.encode() in p.read_bytes()]
    assert offenders == []
