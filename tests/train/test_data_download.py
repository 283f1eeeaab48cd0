"""``varimac data``: the download against a local HTTP server (127.0.0.1 only) serving a tiny
archive made here, the shipped demo subset, and data sets named without machine paths."""

import hashlib
import http.server
import socket
import threading
from functools import partial

import numpy as np
import pytest

from flows.cli import main
from golden.train.data import DataError, load_cifar10
from golden.train.demo_data import DEMO_FILE, load_demo, make_demo_subset
from golden.train.download import download
from tests.support.cifar import random_batches, tar, write_bin

NAME = "cifar-10-binary.tar.gz"


@pytest.fixture
def server(tmp_path):
    """A tiny CIFAR-10 archive served on 127.0.0.1; yields (url, bytes, request paths)."""
    root = tmp_path / "served"
    root.mkdir()
    write_bin(tmp_path / "cifar-10-batches-bin", random_batches())
    tar(tmp_path / "cifar-10-batches-bin", root / NAME, "w:gz")
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/{NAME}", (root / NAME).read_bytes(), \
            requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_download_checks_md5_and_lands_atomically(server, tmp_path):
    url, blob, requests = server
    path = download(to=tmp_path / "cache", url=url, md5=hashlib.md5(blob).hexdigest(),
                    progress=False)
    assert path == tmp_path / "cache" / NAME and path.read_bytes() == blob
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [NAME]
    # Already there with the right md5: not fetched again.
    download(to=tmp_path / "cache", url=url, md5=hashlib.md5(blob).hexdigest(), progress=False)
    assert requests == [f"/{NAME}"]
    data = load_cifar10(path, cache_dir=tmp_path / "decoded")
    assert data.source == f"{NAME} sha256:{hashlib.sha256(blob).hexdigest()}"
    assert len(data.train_y) == 15 and len(data.test_y) == 3


def test_wrong_md5_leaves_nothing(server, tmp_path):
    url, _, _ = server
    with pytest.raises(DataError, match="md5 .* is not the published 0{32}"):
        download(to=tmp_path / "cache", url=url, md5="0" * 32, progress=False)
    assert list((tmp_path / "cache").iterdir()) == []


def test_offline_says_what_to_do_in_one_line(tmp_path, capsys):
    with socket.socket() as s:        # a port on 127.0.0.1 that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/{NAME}"
    assert main(["data", "download", "--to", str(tmp_path / "d"), "--url", url,
                 "--md5", "0" * 32, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"varimac data: error: cannot download {url} (")
    assert "--data PATH" in err and err.count("\n") == 1
    assert list((tmp_path / "d").iterdir()) == []


def test_download_command(server, tmp_path, capsys):
    url, blob, _ = server
    assert main(["data", "download", "--to", str(tmp_path / "d"), "--url", url, "--md5",
                 hashlib.md5(blob).hexdigest(), "--no-progress"]) == 0
    assert (tmp_path / "d" / NAME).read_bytes() == blob
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'd' / NAME}: md5 checked")


@pytest.mark.parametrize("argv,message", [
    (["--url", "http://127.0.0.1:1/x.tar.gz"], "--url and --md5 go together"),
    (["--url", "http://127.0.0.1:1/x.tar.gz", "--md5", "xyz"], "--md5 must be 32 lowercase"),
])
def test_download_refuses_bad_input(argv, message, tmp_path, capsys):
    assert main(["data", "download", "--to", str(tmp_path / "d"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"varimac data: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "d").exists()


def test_train_download_fetches_when_nothing_is_found(server, tmp_path, monkeypatch):
    from golden.train import data as cifar
    from golden.train import download as down
    url, blob, _ = server
    monkeypatch.setenv("VARIMAC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("VARIMAC_DATA", raising=False)
    monkeypatch.setattr(cifar, "REPO_ROOT", tmp_path / "repo")       # no ../shared
    monkeypatch.setitem(down.OFFICIAL, "binary", (url, hashlib.md5(blob).hexdigest()))
    assert main(["train", "--policy", "fixed-8", "--epochs", "1", "--backend", "numpy",
                 "--batch", "5", "--train-subset", "5", "--test-subset", "3", "--download",
                 "--no-progress", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "cache" / "datasets" / NAME).read_bytes() == blob
    log = (tmp_path / "run" / "log.json").read_text()
    assert f'"dataset": "{NAME} sha256:{hashlib.sha256(blob).hexdigest()}"' in log


def test_demo_subset_round_trip(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    write_bin(folder, random_batches())
    full = load_cifar10(folder, cache_dir=tmp_path / "cache")
    digest = make_demo_subset(folder, tmp_path / "demo.npz", n_train=10, n_test=2)
    assert digest == hashlib.sha256((tmp_path / "demo.npz").read_bytes()).hexdigest()
    sub = load_demo(tmp_path / "demo.npz", sha256=digest)
    assert np.array_equal(sub.train_x, full.train_x[:10])
    assert np.array_equal(sub.train_y, full.train_y[:10])
    assert np.array_equal(sub.test_x, full.test_x[:2])
    assert np.array_equal(sub.test_y, full.test_y[:2])
    assert sub.source == f"demo.npz sha256:{digest}"


def test_shipped_subset_is_checked(tmp_path):
    data = load_demo()
    assert (len(data.train_y), len(data.test_y)) == (2560, 640)
    assert data.train_x.shape == (2560, 32, 32, 3) and data.test_x.dtype == np.uint8
    assert sorted(set(data.train_y.tolist())) == list(range(10))
    damaged = bytearray(DEMO_FILE.read_bytes())
    damaged[len(damaged) // 2] ^= 1
    (tmp_path / "demo.npz").write_bytes(bytes(damaged))
    with pytest.raises(DataError, match="sha256 .* is not the expected"):
        load_demo(tmp_path / "demo.npz")
