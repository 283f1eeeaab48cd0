"""Tables in the README and the docs that quote committed result files must be exactly those
files, and those files must be the renderings of the committed data."""

import glob
import json
import pathlib

import pytest

from flows.reports import report
from flows.eda.fpga_report import markdown as fpga_markdown
from flows.eda.power_report import markdown as power_markdown
from flows.eda.timing import markdown as timing_markdown
from flows.reports.quote import BLOCK, quote
from golden.train import gradstats
from tests.support.paths import REPO

ROOT = REPO
DOCS = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", DOCS)
def test_quoted_blocks_are_the_files(doc):
    for match in BLOCK.finditer((ROOT / doc).read_text()):
        path = match.group("path")
        assert match.group("body") == (ROOT / path).read_text(), f"{doc} quotes a stale {path}"


def test_the_results_are_quoted():
    quoted = {m.group("path") for doc in DOCS for m in BLOCK.finditer((ROOT / doc).read_text())}
    assert {"results/power/power.md", "docs/figures/results.md",
            "results/gradstats/gradstats.md", "results/timing/timing.md"} <= quoted


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "results" / "power" / "**" /
                                                       "power.json"), recursive=True)))
def test_power_tables_render_power_json(path):
    data = json.loads(pathlib.Path(path).read_text())
    assert pathlib.Path(path).with_suffix(".md").read_text() == power_markdown(data)


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "results" / "timing" / "**" /
                                                       "timing.json"), recursive=True)))
def test_timing_tables_render_timing_json(path):
    data = json.loads(pathlib.Path(path).read_text())
    assert pathlib.Path(path).with_suffix(".md").read_text() == timing_markdown(data)


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "results" / "fpga" / "*" /
                                                       "fpga.json"))))
def test_fpga_tables_render_fpga_json(path):
    data = json.loads(pathlib.Path(path).read_text())
    assert pathlib.Path(path).with_suffix(".md").read_text() == fpga_markdown(data)


def test_gradstats_table_renders_gradstats_json():
    data = json.loads((ROOT / "results" / "gradstats" / "gradstats.json").read_text())
    assert (ROOT / "results" / "gradstats" / "gradstats.md").read_text() == \
        gradstats.markdown(data["checkpoints"])


def test_training_table_is_the_committed_runs_report():
    """`make paper`'s rendering of the committed runs and power file."""
    power = json.loads((ROOT / "results" / "power" / "power.json").read_text())
    runs = [report.load_run(p) for p in sorted(glob.glob(str(ROOT / "runs" / "*" / "log.json")))]
    rows = report.build(runs, power, pj_per_bit=report.SRAM_PJ_PER_BIT)
    table = report.markdown(rows, power_path="results/power/power.json",
                            pj_per_bit=report.SRAM_PJ_PER_BIT)
    assert (ROOT / "docs" / "figures" / "results.md").read_text() == table


def test_quote_refreshes_blocks(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "t.md").write_text("| a |\n")
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- r/t.md: begin -->\nold\n<!-- r/t.md: end -->\nend\n")
    assert quote(doc, root=tmp_path) == ["r/t.md"]
    assert doc.read_text() == "intro\n<!-- r/t.md: begin -->\n| a |\n<!-- r/t.md: end -->\nend\n"
    doc.write_text("<!-- r/none.md: begin -->\n<!-- r/none.md: end -->\n")
    with pytest.raises(ValueError, match="quotes r/none.md, which does not exist"):
        quote(doc, root=tmp_path)
