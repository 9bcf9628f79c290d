"""`nurture report pipeline`: the numbers managers ask for, as a table, JSON or HTML charts."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.experiments import holdout_cohort
from agent.runtime import open_runtime
from store.db import session_scope
from tools.analytics import (
    AnalyticsError,
    funnel_figure,
    holdout_figure,
    parse_moment,
    pipeline_summary,
    trend_figure,
)

app = typer.Typer(help="Reports: the pipeline summary.", no_args_is_help=True)


@app.callback()
def reports() -> None:
    """Reports over the store (one sub-command per report)."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _moment(text: str, option: str, *, end: bool = False) -> datetime:
    try:
        return parse_moment(text, end=end)
    except AnalyticsError as exc:
        raise _fail(f"{option}: {exc}") from None


@app.command("pipeline")
def pipeline(
    since: Annotated[
        str | None,
        typer.Option(help="start: YYYY-MM-DD, an ISO time, 30d or 'this month' (default: all)"),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="end, inclusive for a date (default: now)")
    ] = None,
    segment: Annotated[
        str | None, typer.Option(help="only leads now in this segment, e.g. mofu:* or enterprise")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    html: Annotated[
        Path | None,
        typer.Option(help="also write the funnel, trend and holdout charts to this HTML file"),
    ] = None,
) -> None:
    """Lead->MQL, MQL->SQL vs the 13 % benchmark, SQLs per 1,000 in nurture, time to MQL,
    hand-off latency vs SLA, revenue, email rates, nurture's uplift over the holdout; by
    segment, by sequence and by week."""
    start = _moment(since, "--since") if since else None
    end = _moment(until, "--until", end=True) if until else None
    runtime = open_runtime()
    try:
        with session_scope(runtime.engine) as session:
            summary = pipeline_summary(
                session,
                since=start,
                until=end,
                segment=segment,
                holdout=holdout_cohort(runtime.settings),
            )
    except AnalyticsError as exc:
        raise _fail(str(exc)) from None
    if html is not None:
        _write_html(summary, html)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    _print(summary)
    if html is not None:
        typer.echo(f"\ncharts written to {html}")


def _write_html(summary: dict[str, Any], path: Path) -> None:
    parts = [
        funnel_figure(summary).to_html(full_html=False, include_plotlyjs=True),
        trend_figure(summary).to_html(full_html=False, include_plotlyjs=False),
    ]
    uplift = holdout_figure(summary)
    if uplift is not None:
        parts.append(uplift.to_html(full_html=False, include_plotlyjs=False))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>nurture pipeline</title>"
        "</head><body>" + "".join(parts) + "</body></html>"
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"--html: cannot write {path} ({exc.strerror})") from None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.1f}{unit}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _print(summary: dict[str, Any]) -> None:
    period, totals, conv = summary["period"], summary["totals"], summary["conversion"]
    since = period["since"][:10] if period["since"] else "the start"
    scope = f" (segment {period['segment']})" if period["segment"] else ""
    typer.echo(f"Pipeline {since} to {period['until'][:10]}{scope}")
    typer.echo(
        f"  new leads {totals['new_leads']:,} · MQLs {totals['mqls']:,} · SQLs "
        f"{totals['sqls']:,} · won {totals['won']:,} · touches sent {totals['touches_sent']:,}"
    )
    typer.echo(f"  lead -> MQL                {_pct(conv['lead_to_mql'])}")
    verdict = conv["mql_to_sql_vs_benchmark"]
    typer.echo(
        f"  MQL -> SQL                 {_pct(conv['mql_to_sql'])}  (benchmark 13 %, top "
        f"quartile 22 %{': ' + verdict if verdict else ''})"
    )
    typer.echo(
        f"  SQLs per 1,000 in nurture  {_num(conv['sqls_per_1000_in_nurture'])}  "
        f"({totals['in_nurture']:,} contacts in nurture: {summary['nurture_basis']})"
    )
    typer.echo(
        f"  time to MQL                {_num(conv['median_days_to_mql'], ' days')} median; "
        f"MQL -> SQL {_num(conv['median_days_mql_to_sql'], ' days')}"
    )
    h = summary["handoffs"]
    typer.echo(
        f"Hand-offs: {h['created']} created, {h['accepted']} accepted, {h['rejected']} rejected, "
        f"{h['pending']} pending ({h['pending_past_sla']} past SLA); median latency "
        f"{_num(h['median_latency_hours'], ' h')}; within SLA {_pct(h['within_sla'])}"
    )
    r = summary["revenue"]
    typer.echo(
        f"Revenue: won {_money(r['won_amount'])} ({r['won_deals']} deals), influenced by "
        f"nurture {_money(r['influenced_amount'])} ({r['influenced_deals']}), average deal "
        f"{_money(r['average_deal_size'])}"
    )
    e = summary["email"]
    typer.echo(
        f"Email: {e['emails_sent']:,} sent; opens {e['opens']:,} ({_pct(e['open_rate'])}), "
        f"clicks {e['clicks']:,} ({_pct(e['click_rate'])}), replies {e['replies']:,}, "
        f"unsubscribes {e['unsubscribes']:,} ({_pct(e['unsubscribe_rate'])})"
    )
    h = summary.get("holdout")
    if h:
        typer.echo(
            f"Nurture vs holdout ({h['conversion']}, leads created in the period): "
            f"{_pct(h['nurtured_rate'])} of {h['nurtured']:,} nurtured vs "
            f"{_pct(h['holdout_rate'])} of {h['holdout']:,} held out "
            f"({h['holdout_share'] * 100:g} % on the plain drip)"
        )
        typer.echo(f"  {h['verdict_text']}")
    _table(
        "By segment (10 largest)",
        ["segment", "leads", "new", "MQLs", "SQLs", "lead->MQL", "MQL->SQL", "won"],
        [
            [
                row["segment"], row["leads"], row["new_leads"], row["mqls"], row["sqls"],
                _pct(row["lead_to_mql"]), _pct(row["mql_to_sql"]), _money(row["won_amount"]),
            ]
            for row in summary["by_segment"][:10]
        ],
    )  # fmt: skip
    _table(
        "By sequence",
        ["sequence", "status", "enrolled", "touches", "MQLs", "SQLs", "won", "close rate"],
        [
            [
                row["sequence"], row["status"], row["enrolled"], row["touches_sent"],
                row["mqls"], row["sqls"], _money(row["won_amount"]), _pct(row["close_rate"]),
            ]
            for row in summary["by_sequence"]
        ],
    )  # fmt: skip
    _table(
        "Weekly trend",
        ["week of", "new", "MQLs", "SQLs", "hand-offs", "touches", "won"],
        [
            [
                week["week_start"], week["new_leads"], week["mqls"], week["sqls"],
                week["handoffs"], week["touches_sent"], _money(week["won_amount"]),
            ]
            for week in summary["trend"]
        ],
    )  # fmt: skip


def _table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    typer.echo(f"\n{title}:")
    if not rows:
        typer.echo("  (none)")
        return
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        first = row[0].ljust(widths[0])
        rest = "  ".join(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        typer.echo(f"  {first}  {rest}")
