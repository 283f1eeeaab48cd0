"""Result files, through varimac's one atomic writer (``golden.files.write_atomic``): a failed run
never leaves a partial file behind. These two also create the file's folder."""

import os

from golden.files import save_json, write_atomic


def write_text(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomic(path, lambda f: f.write(text))


def write_json(path, data):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_json(path, data, indent=2)
