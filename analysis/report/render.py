"""Render a Quarto ``.qmd`` notebook to one self-contained HTML file.

Two paths, same notebooks:

- **quarto** (when a ``quarto`` binary is on PATH): ``quarto render`` with ``-P`` parameters;
  the page assets come from the notebook's own setup cell, so Quarto's page is offline too.
- **built-in** (no Quarto): jupytext's R-Markdown reader turns the ``.qmd`` into a notebook,
  the ``#| key: value`` chunk options are read from each chunk, parameters are injected after
  the cell tagged ``parameters`` (papermill / Quarto convention), nbclient executes it with the
  project's ipykernel, and the executed cells are written into an HTML page (markdown through
  nbconvert's mistune filter, code through pygments).

Chunk options honoured by the built-in path (and by Quarto): ``echo``, ``output``,
``include``, ``eval``, ``warning``, ``label``, ``fig-cap``, ``tbl-cap``; defaults come from
``execute:`` in ``_quarto.yml`` and the front matter. A cell that raises fails the render
with an error naming the ``.qmd`` file and the line of the failing chunk.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import FormulaeError
from .html import cjk_font_embed, esc

OPTION_LINE = re.compile(r"^\s*#\|\s?(.*)$")
CHUNK_OPEN = re.compile(r"^\s*```+\s*\{(\w+)[^}]*\}\s*$")
OUTPUT_ORDER = ("text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/plain")
DEFAULTS = {"echo": True, "output": True, "include": True, "eval": True, "warning": True}
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)


@dataclass
class Document:
    """A parsed ``.qmd``: front matter, notebook, per-cell options and source lines."""

    path: Path
    front: dict[str, Any]
    nb: Any
    options: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)


def quarto_path() -> str | None:
    """The ``quarto`` binary on PATH, or None."""
    return shutil.which("quarto")


def _chunk_lines(text: str) -> list[int]:
    """1-based line numbers of the chunk openings (```` ```{python} ````), in order."""
    return [i + 1 for i, line in enumerate(text.splitlines()) if CHUNK_OPEN.match(line)]


def _parse_options(source: str, path: Path, line: int | None) -> tuple[dict[str, Any], str]:
    """Split leading ``#| key: value`` lines off a chunk; return (options, code)."""
    lines = source.splitlines()
    opt_lines: list[str] = []
    i = 0
    while i < len(lines) and (m := OPTION_LINE.match(lines[i])):
        opt_lines.append(m.group(1))
        i += 1
    if not opt_lines:
        return {}, source
    try:
        opts = yaml.safe_load("\n".join(opt_lines)) or {}
    except yaml.YAMLError as exc:
        raise FormulaeError(f"bad chunk options: {exc.problem if hasattr(exc, 'problem') else exc}",
                            file=path, line=line) from None
    if not isinstance(opts, dict):
        raise FormulaeError("chunk options must be `#| key: value` lines", file=path, line=line)
    return opts, "\n".join(lines[i:])


def qmd_read(path: Path, project: dict[str, Any] | None = None) -> Document:
    """Read a ``.qmd`` with jupytext's R-Markdown reader and parse its chunk options."""
    import jupytext

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FormulaeError(f"cannot read notebook: {exc.strerror}", file=path) from None
    nb = jupytext.reads(text, fmt="Rmd")
    front: dict[str, Any] = {}
    if nb.cells and nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("---"):
        try:
            front = yaml.safe_load(nb.cells[0].source.strip().strip("-")) or {}
        except yaml.YAMLError as exc:
            raise FormulaeError(f"bad front matter: {exc}", file=path, line=1) from None
        nb.cells = nb.cells[1:]
    starts = iter(_chunk_lines(text))
    defaults = dict(DEFAULTS)
    defaults.update((project or {}).get("execute") or {})
    defaults.update(front.get("execute") or {})
    doc = Document(path=path, front=front, nb=nb)
    for cell in nb.cells:
        line = next(starts, None) if cell.cell_type == "code" else None
        opts: dict[str, Any] = {}
        if cell.cell_type == "code":
            opts, cell.source = _parse_options(cell.source, path, line)
            tags = opts.get("tags") or []
            cell.metadata["tags"] = list(tags) if isinstance(tags, list) else [str(tags)]
        doc.options.append({**defaults, **opts})
        doc.lines.append(line)
    return doc


def qmd_parameters(doc: Document, params: dict[str, Any]) -> None:
    """Insert a cell setting ``params`` right after the cell tagged ``parameters``."""
    import nbformat

    if not params:
        return
    tagged = [i for i, c in enumerate(doc.nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if not tagged:
        raise FormulaeError("notebook has no cell tagged `parameters` (`#| tags: [parameters]`)",
                            file=doc.path)
    i = tagged[0]
    known = set(re.findall(r"^(\w+)\s*=", doc.nb.cells[i].source, flags=re.MULTILINE))
    unknown = sorted(set(params) - known)
    if unknown:
        raise FormulaeError(f"unknown report parameter(s) {', '.join(unknown)}; "
                            f"the notebook accepts {', '.join(sorted(known))}", file=doc.path)
    src = "\n".join(f"{k} = {params[k]!r}" for k in sorted(params))
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    doc.nb.cells.insert(i + 1, cell)
    doc.options.insert(i + 1, dict(doc.options[i]))
    doc.lines.insert(i + 1, doc.lines[i])


def qmd_execute(doc: Document, *, cwd: Path, env: dict[str, str], timeout: int = 900) -> None:
    """Execute the notebook in a fresh ipykernel; a failing cell names its ``.qmd`` line."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    for cell, opts in zip(doc.nb.cells, doc.options, strict=True):
        if cell.cell_type == "code" and not opts.get("eval", True):
            cell.metadata["fx_skip"] = True
            cell.metadata.setdefault("tags", []).append("skip-execution")
    kernel_env = {**os.environ, **env}
    client = NotebookClient(
        doc.nb,
        km=_kernel_manager(),
        timeout=timeout,
        resources={"metadata": {"path": str(cwd)}},
        skip_cells_with_tag="skip-execution",
        allow_errors=False,
    )
    # The kernel's own stderr (e.g. its "running over TCP" notice) goes to a scratch log,
    # quoted only if the kernel dies.
    with tempfile.TemporaryFile("w+") as log:
        try:
            client.execute(env=kernel_env, cwd=str(cwd), stderr=log)
        except CellExecutionError as exc:
            line = _failing_line(doc)
            detail = (f"{exc.ename}: {(str(exc.evalue).strip().splitlines() or [''])[0]}"
                      if getattr(exc, "ename", None)
                      else str(exc).strip().splitlines()[-1])
            raise FormulaeError(f"notebook cell failed: {detail}", file=doc.path, line=line) from None
        except (RuntimeError, TimeoutError) as exc:
            log.seek(0)
            tail = " | ".join(log.read().strip().splitlines()[-2:])
            raise FormulaeError(f"notebook kernel failed: {exc} {tail}".strip(), file=doc.path) from None


def _kernel_manager() -> Any:
    """A kernel manager that runs ipykernel with *this* interpreter (the project's venv),
    whatever ``python3`` kernelspec a user may have installed elsewhere."""
    import sys

    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km._kernel_spec = KernelSpec(  # set before first use: the spec is otherwise looked up by name
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="formulae (project venv)", language="python", resource_dir="",
    )
    return km


def _failing_line(doc: Document) -> int | None:
    for cell, line in zip(doc.nb.cells, doc.lines, strict=True):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return line
    return None


# --- HTML page ---------------------------------------------------------------------


def _highlight(code: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    body = highlight(code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=True))
    return f'<pre class="fx-code"><code>{body}</code></pre>'


def _markdown(text: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(text)


def _output_html(out: dict[str, Any], opts: dict[str, Any]) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        if out.get("name") == "stderr":
            if opts.get("warning") is False:
                return ""
            return f'<pre class="fx-stream fx-stderr">{esc(out.get("text", ""))}</pre>'
        return f'<pre class="fx-stream">{esc(out.get("text", ""))}</pre>'
    if kind not in ("display_data", "execute_result"):
        return ""
    data = out.get("data", {})
    for mime in OUTPUT_ORDER:
        if mime not in data:
            continue
        value = data[mime]
        value = "".join(value) if isinstance(value, list) else value
        if mime == "text/html":
            return value
        if mime == "image/svg+xml":
            return value
        if mime in ("image/png", "image/jpeg"):
            return f'<img alt="" src="data:{mime};base64,{esc(value.strip())}">'
        if mime == "text/markdown":
            return _markdown(value)
        return f'<pre class="fx-stream">{esc(value)}</pre>'
    return ""


def _cell_html(cell: Any, opts: dict[str, Any], counters: dict[str, int]) -> str:
    if cell.cell_type == "markdown":
        return _markdown(cell.source)
    if cell.cell_type != "code" or not opts.get("include", True):
        return ""
    parts = []
    if opts.get("echo", True) and cell.source.strip():
        parts.append(_highlight(cell.source))
    if opts.get("output", True) is not False:
        parts.extend(_output_html(o, opts) for o in cell.get("outputs", []))
    body = "".join(parts)
    label = opts.get("label")
    cap_key = "fig-cap" if "fig-cap" in opts else "tbl-cap" if "tbl-cap" in opts else None
    if cap_key:
        kind = "Figure" if cap_key == "fig-cap" else "Table"
        counters[kind] = counters.get(kind, 0) + 1
        caption = f"{kind} {counters[kind]}: {opts[cap_key]}"
        ident = f' id="{esc(label)}"' if label else ""
        return f'<figure class="fx-cell"{ident}>{body}<figcaption>{esc(caption)}</figcaption></figure>'
    if label:
        return f'<div class="fx-cell" id="{esc(label)}">{body}</div>'
    return body


def nb_to_html(doc: Document, *, stamp: str, lang: str = "en") -> str:
    """The executed notebook as one HTML page (header from front matter, stamp footer)."""
    front = doc.front
    title = str(front.get("title") or doc.path.stem)
    head = [f'<h1 class="title">{esc(title)}</h1>']
    for key in ("subtitle", "author", "date"):
        if front.get(key):
            head.append(f'<p class="{key}">{esc(front[key])}</p>')
    counters: dict[str, int] = {}
    cells = "\n".join(
        _cell_html(cell, opts, counters) for cell, opts in zip(doc.nb.cells, doc.options, strict=True)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="formulae built-in renderer (jupytext, nbclient, nbconvert)">\n'
        f"<title>{esc(title)}</title>\n</head>\n<body>\n<main class=\"fx-page\">\n"
        f"<header>{''.join(head)}</header>\n{cells}\n{stamp}\n</main>\n</body>\n</html>\n"
    )


def render_builtin(
    qmd: Path, params: dict[str, Any], *, out_html: Path, env: dict[str, str], stamp: str,
    project: dict[str, Any] | None = None, lang: str = "en",
) -> None:
    """jupytext (Rmd reader) -> parameters -> nbclient -> HTML page at ``out_html``.

    ``lang`` is the corpus language, set on the page's ``<html lang>``."""
    doc = qmd_read(qmd, project)
    qmd_parameters(doc, params)
    qmd_execute(doc, cwd=Path(qmd).parent, env=env)
    out_html.write_text(cjk_font_embed(nb_to_html(doc, stamp=stamp, lang=lang)), encoding="utf-8")


def render_quarto(
    qmd: Path, params: dict[str, Any], *, out_html: Path, env: dict[str, str], stamp: str,
) -> None:
    """``quarto render`` into ``out_html``; the build stamp is added before ``</body>``."""
    exe = quarto_path()
    if exe is None:  # pragma: no cover - guarded by the caller
        raise FormulaeError("quarto is not on PATH")
    cmd = [exe, "render", str(qmd), "--to", "html", "--output", out_html.name,
           "--output-dir", str(out_html.parent)]
    for key in sorted(params):
        cmd += ["-P", f"{key}:{params[key]}"]
    proc = subprocess.run(cmd, cwd=str(Path(qmd).parent), env={**os.environ, **env},
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise FormulaeError(f"quarto render failed: {last}", file=qmd)
    page = out_html.read_text(encoding="utf-8")
    if "</body>" in page:
        page = page.replace("</body>", f"{stamp}\n</body>", 1)
    out_html.write_text(cjk_font_embed(page), encoding="utf-8")
