"""Download the official CIFAR-10 archive into the data cache, checked against its published md5.

The archive is streamed into a temporary file beside its destination, with a progress bar,
hashed on the way, and renamed into place only when the md5 matches: an interrupted or corrupt
download never leaves a file that the loader would pick up. An archive already in place with
the right md5 is not fetched again.
"""

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from ..files import write_atomic
from .data import DataError, cache_root

PAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"
# format -> (URL, md5 published on PAGE)
OFFICIAL = {
    "binary": ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
               "c32a1d4ab5d03f1284b67883e8d87530"),
    "python": ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
               "c58f30108f718f92721af3b95e74349a"),
}
CHUNK = 1 << 20


def default_dir():
    """Where downloads go, and where ``load_cifar10`` looks without a path."""
    return cache_root() / "datasets"


def download(*, to=None, fmt="binary", url=None, md5=None, progress=True, timeout=30):
    """Fetch the archive (``OFFICIAL[fmt]`` unless ``url``/``md5`` are given) into ``to``
    (default ``default_dir()``); returns its path. ``DataError`` with one line saying what to
    do when it cannot be fetched or its md5 is wrong."""
    if url is None:
        url, md5 = OFFICIAL[fmt]
    folder = Path(to) if to is not None else default_dir()
    target = folder / url.rstrip("/").rsplit("/", 1)[-1]
    if target.is_file() and _md5(target) == md5:
        return target
    def fetch(out):
        digest = _fetch(url, out, progress=progress, timeout=timeout)
        if digest != md5:
            raise DataError(f"{url}: md5 {digest} is not the published {md5}: the download "
                            f"is corrupt; run the command again")

    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(target, fetch, mode="wb")
    except DataError:
        raise
    except OSError as exc:
        raise DataError(f"cannot write to {folder} ({exc.strerror}): choose another folder "
                        f"with --to DIR") from None
    return target


def _fetch(url, out, *, progress, timeout):
    from tqdm import tqdm
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, disable=not progress,
                      desc=url.rsplit("/", 1)[-1]) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(f"cannot download {url} ({reason}): on a machine without internet "
                        f"access, fetch that file elsewhere (its md5 is on {PAGE}) and pass "
                        f"its path with --data PATH or VARIMAC_DATA=PATH") from None
    return digest.hexdigest()


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
