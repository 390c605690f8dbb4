"""MkDocs hooks for this site (named in ``mkdocs.yml``)."""

from __future__ import annotations

import re
from typing import Any

# The docs' tests read words after a fence's language ("```python continuation" continues
# the previous block); Markdown renderers do not, and would print the block as text.
_FENCE_INFO = re.compile(r"^(\s*```python)[ \t]+[^\n`]*$", re.MULTILINE)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Render a test-annotated fence as the plain Python block it is."""
    return _FENCE_INFO.sub(r"\1", markdown)
