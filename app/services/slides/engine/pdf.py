"""PDF export through LibreOffice headless (`soffice --convert-to pdf`).

Each conversion runs in its own temporary directory with its own LibreOffice profile
(`-env:UserInstallation`), so parallel conversions in several workers never share a profile lock,
and it runs in its own process group so a timeout kills soffice and its helper processes. The
theme fonts shipped in `assets/fonts/` are made visible to LibreOffice through a private
fontconfig file, so the PDF uses the same faces as the preview without installing them system-wide.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from app.errors import AppError, TooLarge
from app.services.slides.engine.themes import FONTS_DIR

UNAVAILABLE_MESSAGE = ("PDF export needs LibreOffice (libreoffice-impress), which is not installed on this server")
MAX_PPTX_BYTES = 300 * 1024 * 1024
_EXECUTABLES = ("soffice", "libreoffice")


class PdfUnavailable(AppError):
    status = 503
    code = "pdf_unavailable"


class PdfConversionFailed(AppError):
    status = 500
    code = "pdf_conversion_failed"


def soffice_path() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    for name in _EXECUTABLES:
        found = shutil.which(name)
        if found:
            return found
    return None


def libreoffice_available() -> bool:
    """True when PDF export can run on this machine."""
    return soffice_path() is not None


def _fontconfig_file() -> Path:
    """A fontconfig file adding our fonts to the system's; written once per machine, atomically."""
    folder = Path(tempfile.gettempdir()) / f"atelier-fontconfig-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    conf = folder / "fonts.conf"
    text = ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
            '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
            f"  <dir>{FONTS_DIR}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n")
    if not conf.exists() or conf.read_text() != text:
        partial = folder / f"fonts.conf.{os.getpid()}"
        partial.write_text(text)
        partial.replace(conf)
    return conf


def convert_to_pdf(pptx: bytes, *, timeout: float) -> bytes:
    """The deck as PDF, one page per slide.

    Raises PdfUnavailable when LibreOffice is not installed, PdfConversionFailed when it fails or
    runs past `timeout` seconds (it is killed then).
    """
    executable = soffice_path()
    if executable is None:
        raise PdfUnavailable(UNAVAILABLE_MESSAGE)
    if len(pptx) > MAX_PPTX_BYTES:
        raise TooLarge(f"the deck is {len(pptx) / 1e6:.0f} MB; PDF export takes at most "
                       f"{MAX_PPTX_BYTES // (1024 * 1024)} MB")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    with tempfile.TemporaryDirectory(prefix="atelier-pdf-") as tmp:
        work = Path(tmp)
        source, out_dir = work / "deck.pptx", work / "out"
        source.write_bytes(pptx)
        out_dir.mkdir()
        env = {**os.environ, "HOME": str(work), "FONTCONFIG_FILE": str(_fontconfig_file()),
               "SAL_USE_VCLPLUGIN": "svp"}
        command = [executable, "--headless", "--invisible", "--nologo", "--norestore", "--nolockcheck",
                   "--nodefault", f"-env:UserInstallation={(work / 'profile').as_uri()}",
                   "--convert-to", "pdf:impress_pdf_Export", "--outdir", str(out_dir), str(source)]
        process = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise PdfConversionFailed(f"PDF export took longer than {timeout:g} s and was stopped") from None
        finally:
            if process.poll() is None:
                _kill_group(process)
        result = out_dir / "deck.pdf"
        if process.returncode != 0 or not result.exists() or result.stat().st_size == 0:
            detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise PdfConversionFailed(f"LibreOffice could not convert the deck to PDF "
                                      f"(exit code {process.returncode}: {detail[0][:300]})")
        return result.read_bytes()


def _kill_group(process: subprocess.Popen) -> None:
    """Kill soffice and the helpers it started (its own session, so only these)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()
