"""What the build's embed steps share (tools/openapi/embed.py, tools/console/embed.py)."""
import os


def write_if_changed(path, data):
    """Same bytes: leave the file (and its mtime) alone, so nothing rebuilds."""
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
