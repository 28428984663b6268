"""Reporters turn a Report into bytes. Pure: no filtering, no I/O, sorted,
no timestamps. Each takes the Report and RenderOptions and returns str."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from ..models import Report


@dataclass(frozen=True)
class RenderOptions:
    redact: bool = True
    color: bool = False
    show_suppressed: bool = False
    verbose: bool = False
    fail_on: str = "low"
    # UTC times ("YYYY-MM-DDTHH:MM:SS") when asked for (--timestamps); None
    # keeps reports free of times so they diff cleanly.
    started: str | None = None
    finished: str | None = None


# format name -> module in this package with a ``render(report, options)``.
FORMATS: dict[str, str] = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "gitlab": "gitlab",
    "junit": "junit",
    "github": "github",
    "html": "html",
}


def renderer(fmt: str) -> Callable[[Report, RenderOptions], str]:
    """The format's render function; unless told not to redact, its output
    passes keyscan.leakguard, so a key that reached a path, a commit
    subject or an error message is redacted there too."""
    render = importlib.import_module(f"{__name__}.{FORMATS[fmt]}").render

    def guarded(report: Report, options: RenderOptions) -> str:
        text = render(report, options)
        if not options.redact:
            return text
        from ..leakguard import guard, report_secrets

        return guard(text, report_secrets(report))

    return guarded
