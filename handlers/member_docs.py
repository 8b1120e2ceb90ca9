"""A member's documents to print and sign, built from their pledge row: the pledge itself and the
year-end self-assessment (sent when submitted and again when the union confirms it)."""

from __future__ import annotations

from datetime import datetime

from bot.flow import Context
from bot.messages import Document
from bot.models import AssessmentStatus, Member, Pledge, Unit
from bot.pledgebook import sections_for
from bot.services import pledges
from bot.services.assessment_docx import AssessmentSheet, render_assessment_docx
from bot.services.members import group_key
from bot.services.pledge_docx import PledgeSheet, render_pledge_docx

_ROMAN = ("I", "II", "III", "IV", "V", "VI")


def rating_label(ctx: Context, rating: str | None) -> str:
    """A rating level's name, e.g. "Hoàn thành tốt nhiệm vụ"."""
    for level in ctx.catalog.pledges.rating.levels:
        if level.id == rating:
            return str(level.label)
    return rating or "—"


def _units(ctx: Context, member: Member) -> tuple[str, str | None]:
    unit = ctx.session.get(Unit, member.unit_id)
    parent = ctx.session.get(Unit, unit.parent_id) if unit and unit.parent_id else None
    return (unit.name if unit else ""), (parent.name if parent else None)


def _day(ctx: Context, at: datetime | None) -> datetime:
    return (at or ctx.now).astimezone(ctx.settings.tz)


def pledge_sheet(ctx: Context, year: int, pledge: Pledge, member: Member) -> PledgeSheet:
    """The printable form of a submitted pledge."""
    doc = pledge.content or {}
    group = str(doc.get("_group") or member.group)
    sections = [
        (
            ctx.t("pledge.docx_section", n=_ROMAN[n], title=ctx.t(f"pledge.sections.{s}").upper()),
            [i["text"] for i in pledges.items(doc, s)],
        )
        for n, s in enumerate(sections_for(group))
    ]
    unit, parent = _units(ctx, member)
    return PledgeSheet(
        year=year,
        full_name=member.full_name or "",
        unit_name=unit,
        parent_unit_name=parent,
        group_label=ctx.t(group_key(group)),
        party_member=member.party_member,
        sections=sections,
        timeline=str(doc.get("timeline") or ""),
        place="",
        signed_on=_day(ctx, pledge.submitted_at).date(),
        reference=f"DK-{year}-{pledge.id:06d}",
    )


def send_pledge(ctx: Context, year: int, pledge: Pledge, member: Member) -> None:
    data = render_pledge_docx(pledge_sheet(ctx, year, pledge, member))
    ctx.document(
        data, f"ban-dang-ky-{year}-{pledge.id}.docx", ctx.t("pledge.docx_caption", year=year)
    )


def assessment_sheet(ctx: Context, year: int, pledge: Pledge, member: Member) -> AssessmentSheet:
    """The printable self-assessment: the member's results and ratings as they stand."""
    group = str((pledge.content or {}).get("_group") or member.group)
    unit, parent = _units(ctx, member)
    confirmed = pledge.assessment_status == AssessmentStatus.CONFIRMED
    return AssessmentSheet(
        year=year,
        full_name=member.full_name or "",
        unit_name=unit,
        parent_unit_name=parent,
        group_label=ctx.t(group_key(group)),
        party_member=member.party_member,
        rows=[
            (str(r.get("text", "")), str(r.get("result", "")), str(r.get("note") or ""))
            for r in pledge.assessment or []
        ],
        proposed=rating_label(ctx, pledge.rating),
        confirmed=rating_label(ctx, pledge.rating_confirmed or pledge.rating)
        if confirmed
        else None,
        reason=pledge.rating_reason if confirmed else None,
        place="",
        signed_on=_day(ctx, pledge.assessment_submitted_at).date(),
        reference=f"TDG-{year}-{pledge.id:06d}",
    )


def assessment_document(ctx: Context, year: int, pledge: Pledge, member: Member) -> Document:
    data = render_assessment_docx(assessment_sheet(ctx, year, pledge, member))
    return Document(
        data,
        f"tu-danh-gia-{year}-{pledge.id}.docx",
        ctx.t("pledge.assess_docx_caption", year=year),
    )


def send_assessment(ctx: Context, year: int, pledge: Pledge, member: Member) -> None:
    ctx.replies.append(assessment_document(ctx, year, pledge, member))
