"""The officer's periodic report (/baocao) for one scope (a unit's subtree, or everything): an
XLSX of the figures with the appendix tables as sheets (bot.services.report_xlsx), and the
report itself as a DOCX ready to sign and send up (bot.services.report_docx).

The outline ("Đề cương báo cáo") and the appendix tables ("Phụ lục 1–6") follow the guide of Ban
Thường vụ LĐLĐ tỉnh An Giang; their wording is in the `report:` block of content/texts.yaml.
Per-unit figures come from `bot.services.stats`, the appendix figures from
`bot.services.annexes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.catalog import Campaign, Catalog
from bot.models import Unit
from bot.services import annexes, report_docx, report_xlsx, stats
from bot.services.report_context import ReportContext
from bot.texts import Texts


@dataclass(frozen=True)
class Report:
    xlsx: bytes
    docx: bytes
    units: int  # units in the scope: the top (if any) and every unit under it
    members: int  # rows of the members sheet


def build(
    session: Session,
    *,
    texts: Texts,
    catalog: Catalog,
    campaign: Campaign,
    top: Unit | None,
    tz: ZoneInfo,
    now: datetime,
) -> Report:
    """Both documents for `top`'s subtree (None: every unit)."""
    tree = stats.tree(session, campaign, top)
    ctx = ReportContext(
        t=texts,
        catalog=catalog,
        campaign=campaign,
        top=top,
        parent=session.get(Unit, top.parent_id) if top is not None and top.parent_id else None,
        tree=tree,
        annexes=annexes.collect(
            session,
            campaign=campaign,
            top=top,
            studied=tree.total.studied,
            party_on_bot=tree.total.party_members,
            party_real=tree.total.real_party_members,
            tz=tz,
        ),
        tz=tz,
        now=now,
    )
    xlsx, members = report_xlsx.write(session, ctx)
    units = tree.unit_count + (top is not None)
    return Report(xlsx=xlsx, docx=report_docx.write(ctx), units=units, members=members)
