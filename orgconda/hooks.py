"""The install-time hooks each installer bundles, as the texts staged into build/<subdir>/."""

from __future__ import annotations

from pathlib import Path

HOOKS_DIR = Path(__file__).resolve().parents[1] / "post_install"
HOOK_NAMES = ("pre_install", "post_install")


def staged_hooks(ext: str, hooks_dir: Path = HOOKS_DIR) -> dict[str, str]:
    """``{"pre_install.<ext>": text, "post_install.<ext>": text}`` for one shell."""
    out: dict[str, str] = {}
    for name in HOOK_NAMES:
        path = hooks_dir / f"{name}.{ext}"
        out[path.name] = path.read_bytes().decode("utf-8")
    return out
