"""Writing result files atomically: a failed run never leaves a partial file behind."""

import json
import os

from golden.files import write_atomic


def write_text(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomic(path, lambda f: f.write(text))


def write_json(path, data):
    write_text(path, json.dumps(data, indent=2) + "\n")
