"""``labelwise preferences``: audit pairwise preference data for an attribute the labels reward."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from labelwise import io
from labelwise.cli import _report, _ui
from labelwise.study.preferences import PreferenceAudit, preference_audit

DEFAULT_OUT = Path("labelwise-preferences")
STEM = "preference_audit"


def _table(audit: PreferenceAudit) -> Table:
    s = audit.summary
    table = _ui.ResultTable(title=f"Preference audit: {audit.verdict}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("pairs", f"{s['n_pairs']}"),
        ("attribute rate, chosen", f"{s['rate_chosen']:.3f}"),
        ("attribute rate, rejected", f"{s['rate_rejected']:.3f}"),
        ("lift over base rate", f"{s['lift']:.2f}"),
        (
            "win rate, one side has it",
            f"{s['win_rate']:.3f} [{s['win_low']:.3f}, {s['win_high']:.3f}]",
        ),
        ("exact McNemar p", f"{s['mcnemar_p']:.2g}"),
    ]
    for r in audit.bradley_terry.itertuples(index=False):
        rows.append((f"Bradley-Terry b_{r.term[0]} ({r.term})", f"{r.coef:+.3f} ± {r.se:.3f}"))
    if "corr_r" in s:
        rows.append(("corr(dAttribute, dQuality)", f"{s['corr_r']:+.3f}"))
    bon = audit.best_of_n
    curve = ", ".join(f"{v:.2f}" for v in bon["bias_reward_model"])
    rows.append((f"best-of-N bias, N={','.join(map(str, bon['n']))}", curve))
    rows.append(("prompt triggers (FDR)", f"{len(audit.significant_triggers())}"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def preferences_command(
    data: Path = typer.Argument(..., help="CSV/TSV/Parquet table of preference pairs."),
    attribute_keywords: str = typer.Option(
        ..., "--attribute-keywords", help="Comma-separated keywords that mark the attribute."
    ),
    quality_column: str | None = typer.Option(
        None,
        "--quality-column",
        help="Attribute-blind quality score Q, read from columns chosen_Q and rejected_Q.",
    ),
    prompt: str = typer.Option("prompt", "--prompt", help="The prompt column."),
    chosen: str = typer.Option("chosen", "--chosen", help="The chosen-response column."),
    rejected: str = typer.Option("rejected", "--rejected", help="The rejected-response column."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the best-of-N simulation."),
    out: Path = _ui.out_option(DEFAULT_OUT),
) -> None:
    """Audit preference pairs: is the attribute preferred directly, or through quality?

    Writes preference_audit.md, preference_audit.json and preference_audit.png to --out.
    """
    keywords = _ui.comma_list(attribute_keywords, "--attribute-keywords")
    table = io.read_table(data)
    with _ui.spinner("Auditing preference pairs"):
        audit = preference_audit(
            table,
            keywords,
            quality=quality_column,
            prompt=prompt,
            chosen=chosen,
            rejected=rejected,
            seed=seed,
        )
    files = {
        f"{STEM}.md": audit.to_markdown(),
        f"{STEM}.json": audit.to_dict(),
        f"{STEM}.png": audit.plot,
    }
    reasons = [f"- {reason}" for reason in audit.reasons]
    _report.finish_study(out, files, [_table(audit), *reasons], audit.seconds)
