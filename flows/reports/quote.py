"""Refresh the blocks of a document that quote a result file verbatim.

A block is ``<!-- PATH: begin -->`` ... ``<!-- PATH: end -->`` with PATH relative to the
repository; ``varimac quote DOC...`` replaces each block's lines with PATH's current
text (``make paper`` does it for docs/RESULTS.md). ``tests/docs/test_results.py`` checks that
the committed docs quote the committed results.
"""

import re
from pathlib import Path

from .results import write_text

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(<!-- (?P<path>[^ ]+): begin -->\n)(?P<body>.*?)(<!-- (?P=path): end -->)",
                   re.S)


def quote(doc, *, root=REPO):
    """Rewrite ``doc`` with every block refreshed; returns the quoted paths."""
    doc = Path(doc)
    text = doc.read_text()
    paths = []

    def fill(match):
        path = match.group("path")
        source = Path(root) / path
        if not source.is_file():
            raise ValueError(f"{doc}: quotes {path}, which does not exist")
        paths.append(path)
        return match.group(1) + source.read_text() + match.group(4)

    new = BLOCK.sub(fill, text)
    if new != text:
        write_text(doc, new)
    return paths

