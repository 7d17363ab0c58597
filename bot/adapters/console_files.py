"""Where the console puts the files a reply carries (an export, a chart).

The default folder is ``newsbot-files`` in the system temp dir, not the working directory:
the console is often run from a checkout, and files dropped there would litter the work tree
(or fail in a read-only directory). ``NEWSBOT_FILES_DIR`` or ``files_dir`` chooses another.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from bot.core.models import Attachment

FILES_DIR_ENV = "NEWSBOT_FILES_DIR"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_files_dir() -> Path:
    chosen = os.environ.get(FILES_DIR_ENV)
    return Path(chosen) if chosen else Path(tempfile.gettempdir()) / "newsbot-files"


def safe_filename(name: str) -> str:
    """The last path component only, with anything but letters, digits, dot, dash and
    underscore replaced: a reply never chooses the folder, and no name starts with a dot."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).lstrip(".")[:100]
    return cleaned or "attachment"


def save_attachment(attachment: Attachment, folder: Path | None = None) -> Path:
    """Writes the file under a fresh name (``name``, ``name-2``, …): never over another file."""
    target_dir = folder or default_files_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    name = safe_filename(attachment.filename)
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, dot, ext = name, "", ""
    for n in range(1, 10_000):
        candidate = target_dir / (name if n == 1 else f"{stem}-{n}{dot}{ext}")
        try:
            # "x" opens only a file that does not exist yet: no race with another writer.
            with candidate.open("xb") as fh:
                fh.write(attachment.data)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free file name for {name} in {target_dir}")
