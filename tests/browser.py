"""Headless Debian Chromium for the browser tests: one set of launch flags, and a guard that
aborts (and records) every request outside the allowed prefixes and records console errors."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def launch(p, executable: str | None = None):  # type: ignore[no-untyped-def]
    """Chromium through Playwright ``p`` (the system browser, never a download)."""
    return p.chromium.launch(executable_path=executable or CHROMIUM, args=ARGS)


def guard(page, outside: list[str], errors: list[str],  # type: ignore[no-untyped-def]
          allow: tuple[str, ...]) -> None:
    """Abort requests whose URL does not start with one of ``allow`` (recorded in ``outside``);
    console errors and page errors go to ``errors``."""

    def route(r):  # type: ignore[no-untyped-def]
        url = r.request.url
        if url.startswith(allow):
            return r.continue_()
        outside.append(url)
        return r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
