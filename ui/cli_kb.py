"""`nurture kb index|search`: the content library in Chroma, indexed incrementally and searched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from agent.knowledge import kb_dir as kb_folder
from agent.knowledge import open_knowledge_base
from agent.settings import get_settings
from knowledge.base import KnowledgeBase, KnowledgeBaseError
from knowledge.embeddings import EmbeddingModelUnavailableError
from knowledge.library import DEFAULT_SOURCE, LibraryError
from knowledge.tokens import TokenizerUnavailableError

app = typer.Typer(
    help="Knowledge base: index and search the content library.", no_args_is_help=True
)

KbDirOpt = Annotated[
    Path | None,
    typer.Option("--kb-dir", help="embedded index folder (default: var/kb, or CHROMA_HOST)"),
]
EXCERPT_CHARS = 280


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _open(kb_dir: Path | None) -> KnowledgeBase:
    settings = get_settings()
    if kb_dir is None and settings.chroma_host:
        where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
            "(CHROMA_HOST / CHROMA_PORT)"
        )
    else:
        where = f"the index in {kb_dir or kb_folder(settings)}"
    try:
        return open_knowledge_base(settings, path=kb_dir)
    except (EmbeddingModelUnavailableError, TokenizerUnavailableError) as exc:
        _fail(str(exc))
    except Exception as exc:  # chromadb raises plain exceptions for an unreachable server
        _fail(f"cannot open {where}: {exc}")


@app.command("index")
def index(
    source: Annotated[
        Path, typer.Option("--source", help="folder of Markdown assets with YAML front matter")
    ] = DEFAULT_SOURCE,
    kb_dir: KbDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Bring the index in line with the folder: embed new and changed files, drop deleted ones."""
    kb = _open(kb_dir)
    try:
        report = kb.index_folder(source)
    except LibraryError as exc:
        _fail(str(exc), code=2)
    except (EmbeddingModelUnavailableError, TokenizerUnavailableError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    typer.echo(f"indexed {source}: {report.summary()}")
    for name in report.changed_assets:
        typer.echo(f"  changed: {name}")


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="what the content should be about")],
    stage: Annotated[
        str | None, typer.Option(help="problem | solution | vendor | decision")
    ] = None,
    segment: Annotated[
        str | None, typer.Option(help="only assets for this segment, e.g. late:pricing")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="how many results (one per asset)")] = 3,
    kb_dir: KbDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """The best passages for QUERY, one per asset, each with its citation."""
    kb = _open(kb_dir)
    try:
        results = kb.search(query, stage=stage, segment=segment, k=k)
    except KnowledgeBaseError as exc:
        _fail(str(exc), code=2)
    if as_json:
        keys = ("title", "url", "stage", "segments", "score", "text")
        typer.echo(json.dumps([{key: r.as_dict()[key] for key in keys} for r in results]))
        return
    if not results:
        empty = "the index is empty: run `nurture kb index`" if kb.count() == 0 else "no match"
        typer.echo(f"no results ({empty})")
        return
    for rank, result in enumerate(results, start=1):
        typer.echo(f"{rank}. {result.title}  [{result.stage} · score {result.score:.2f}]")
        typer.echo(f"   {result.url}")
        typer.echo(f"   segments: {', '.join(result.segments)}")
        excerpt = " ".join(result.text.split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 1].rstrip() + "…"
        typer.echo(f"   {excerpt}\n")
