"""/baocao: the periodic report of the caller's scope, as an XLSX of the figures (with the
appendix tables) and the report as a DOCX ready to sign. Officers report on their subtrees;
admins on everything or on any unit. Every export is in the audit log."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.campaign import Campaign
from bot.flow import Context, Router
from bot.messages import Option
from bot.models import RoleName, Unit
from bot.services import audit, plans
from handlers import unitpick
from handlers.planhints import no_plan
from handlers.scopes import View, views  # the scopes /thongke offers: the same here

logger = logging.getLogger(__name__)

router = Router("report", keep_place=False)

SCOPE = "scope"
FILE_LIFE = timedelta(days=1)  # where files go by link (Zalo), an officer's report expires soon
PICK = "pick"
PICK_UNIT = "pick_unit"
VIEW = "view:"


@router.command("baocao", role=RoleName.OFFICER)
def begin(ctx: Context) -> None:
    """Export at once when there is one scope; otherwise ask which."""
    found = views(ctx)
    if not found:
        no_plan(ctx, "report.no_campaign")
        return
    if len(found) == 1 and not ctx.actor.is_admin:
        _export(ctx, found[0].top, found[0].campaign)
        return
    ctx.begin(router.name, SCOPE)
    _ask_scope(ctx, found)


def _ask_scope(ctx: Context, found: list[View]) -> None:
    """An officer's units; for an admin every tree (or all units at once), or any unit."""
    options = [
        Option(v.top.name[:60] if v.top is not None else ctx.t("report.scope_all"), VIEW + v.key)
        for v in found
    ]
    if ctx.actor.is_admin:
        options.append(Option(ctx.t("report.scope_pick"), PICK_UNIT))
    if not options:  # the campaign went away meanwhile
        ctx.finish()
        ctx.say("report.no_campaign")
        return
    ctx.ask(ctx.t("report.ask_scope"), options)


@router.step(SCOPE)
def on_scope(ctx: Context) -> None:
    choice = ctx.choice or ""
    found = views(ctx)
    view = next((v for v in found if VIEW + v.key == choice), None)
    if view is not None:
        _export(ctx, view.top, view.campaign)
        return
    if choice == PICK_UNIT and ctx.actor.is_admin:
        ctx.goto(PICK)
        unitpick.offer(ctx, None, intro=ctx.t("report.pick_unit"))
        return
    ctx.say("report.need_choice")
    _ask_scope(ctx, found)


@router.step(PICK)
def on_pick(ctx: Context) -> None:
    unit = unitpick.handle(ctx)
    if unit is not None and ctx.actor.can_manage(unit):
        _export_unit(ctx, unit)


def _export_unit(ctx: Context, unit: Unit) -> None:
    assert unit.id is not None
    code = plans.root_code(ctx.session, unit.id)
    found = plans.for_figures(ctx.session, code, now=ctx.now, tz=ctx.settings.tz)
    campaign = found[0] if found is not None else None
    if campaign is None:
        ctx.finish()
        ctx.say("report.no_campaign_unit", unit=unit.name)
        return
    _export(ctx, unit, campaign)


def _export(ctx: Context, top: Unit | None, campaign: Campaign) -> None:
    """Build both documents, send them, record who exported what."""
    ctx.finish()
    scope = top.name if top is not None else ctx.t("report.all_units")
    ctx.say("report.preparing", scope=scope, year=campaign.year)
    from bot.services import reports  # openpyxl and python-docx: loaded when a report is made

    report = reports.build(
        ctx.session,
        texts=ctx.t,
        catalog=ctx.catalog,
        campaign=campaign,
        top=top,
        tz=ctx.settings.tz,
        now=ctx.now,
    )
    stem = f"bao-cao-{top.code if top is not None else 'tat-ca'}-{campaign.year}"
    ctx.document(
        report.xlsx,
        f"{stem}.xlsx",
        ctx.t("report.xlsx_caption", scope=scope, year=campaign.year),
        ttl=FILE_LIFE,
    )
    ctx.document(
        report.docx,
        f"{stem}.docx",
        ctx.t("report.docx_caption", scope=scope, year=campaign.year),
        ttl=FILE_LIFE,
    )
    ctx.say("report.ready", members=report.members, units=report.units)
    unit_id = top.id if top is not None else None
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="report_export",
        unit=unit_id,
        campaign=campaign.id,
        units=report.units,
        members=report.members,
    )
    logger.info(
        "report_export actor=%s unit=%s campaign=%s units=%d members=%d",
        ctx.actor.ref,
        unit_id,
        campaign.id,
        report.units,
        report.members,
    )
