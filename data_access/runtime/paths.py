"""Where the checkout is: the one place that knows how deep this file sits below the repository root.

Config files, map assets and the embedded database are found relative to the repository, so every
module that needs the root imports it from here instead of counting ``.parent`` steps of its own.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
