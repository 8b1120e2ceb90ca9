"""How /thongke writes a unit's figures: Vietnamese numbers and rates, a bar, the totals and one
short block per child unit; rates against the real membership where it is known, and of those
registered with the bot otherwise, each said for what it is."""

from __future__ import annotations

from bot.flow import Context
from bot.numfmt import fmt_int, fmt_pct
from bot.services.stats import UnitFigures

BAR_CELLS = 10


def num(value: int) -> str:
    """1234567 -> '1.234.567'."""
    return fmt_int(value)


def pct(value: float | None) -> str:
    """66.66 -> '66,7%', 0.75 -> '0,75%', None -> '—'."""
    return fmt_pct(value)


def bar(value: float | None) -> str:
    cells = max(0, min(BAR_CELLS, round((value or 0) * BAR_CELLS / 100)))
    return "█" * cells + "░" * (BAR_CELLS - cells)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def unit_name(ctx: Context, figures: UnitFigures) -> str:
    return figures.name if figures.unit_id is not None else ctx.t("stats.all_units")


def values(f: UnitFigures) -> dict[str, str]:
    """Every figure of a unit, formatted: each text takes the ones it names."""
    real = f.real_members
    return {
        "members": num(f.members),
        "party": num(f.party_members),
        "real": num(real) if real is not None else "—",
        "real_party": num(f.real_party_members) if f.real_party_members is not None else "—",
        "joined_pct": pct(100 * f.members / real if real else None),
        "real_pct": pct(f.real_pct),
        "submitted": num(f.submitted),
        "pct": pct(f.completion_pct),
        "bar": bar(f.rate_pct),
        "on_time": num(f.on_time),
        "late": num(f.late),
        "missing": num(f.not_submitted),
        "approved": num(f.approved),
        "waiting": num(f.waiting),
        "returned": num(f.returned),
        "takers": num(f.quiz_takers),
        "passed": num(f.quiz_passed),
        "rate": pct(f.pass_rate_pct),
        "avg": pct(f.avg_score_pct),
        "studied": num(f.studied),
        "checked_in": num(f.checked_in),
        "studied_any": num(f.studied_any),
    }


def total_block(ctx: Context, f: UnitFigures, unit_count: int) -> list[str]:
    v = values(f)
    head = (
        ctx.t("stats.total_head", units=num(unit_count))
        if unit_count
        else ctx.t("stats.total_head_leaf")
    )
    known = "_real" if f.real_members is not None else ""
    return [
        head,
        ctx.t(f"stats.members{known}", **v),
        ctx.t(f"stats.submitted{known}", **v),
        *(ctx.t(f"stats.{key}", **v) for key in ("bar", "timing", "review")),
        ctx.t("stats.quiz" if f.quiz_takers else "stats.quiz_none", **v),
        ctx.t("stats.studied", **v),
        ctx.t("stats.checked_in", **v),
    ]


def child_block(ctx: Context, head: str, f: UnitFigures) -> str:
    v = values(f)
    known = "_real" if f.real_members is not None else ""
    lines = [head, ctx.t(f"stats.child_submitted{known}", **v)]
    lines += [ctx.t(f"stats.child_{key}", **v) for key in ("timing", "review")]
    lines.append(ctx.t("stats.child_quiz" if f.quiz_takers else "stats.child_quiz_none", **v))
    return "\n".join(lines)


def rank_units(children: list[UnitFigures]) -> list[UnitFigures]:
    """Child units with members, the lowest completion first (they need attention)."""
    return sorted(
        (c for c in children if c.members),
        key=lambda c: (c.rate_pct or 0.0, c.name.casefold(), c.code),
    )
