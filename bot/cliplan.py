"""`congdoan plan`: the yearly plans (kế hoạch) of the unit trees, for scripts and the first
deployment (admins make them in the chat with /kehoach). Refusals are one Vietnamese line."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from bot.clibase import build, fail, load_settings, now

if TYPE_CHECKING:
    from bot.app import App
    from bot.services.plans import StoredPlan

plan_app = typer.Typer(help="Kế hoạch năm của cây đơn vị", no_args_is_help=True)


def _refusal(built: App, exc: Exception) -> typer.Exit:
    from bot.messages import to_plain
    from bot.services.plans import PlanError

    assert isinstance(exc, PlanError)
    return fail(to_plain(built.content.texts(exc.key, **exc.values)))


def _status(plan: StoredPlan, current: set[str], today: date) -> str:
    if plan.ended_at is not None:
        return "đã kết thúc"
    if plan.id in current:
        return "đang áp dụng"
    return f"chưa bắt đầu (từ {plan.starts_on:%d/%m/%Y})" if not plan.started(today) else "đã qua"


def _describe(built: App, plan: StoredPlan, status: str, root_name: str | None) -> list[str]:
    """A plan in plain lines, as `plan show` and `plan new` print it."""
    from bot.db import session_scope
    from bot.services import library

    c = plan.campaign
    with session_scope(built.db) as session:
        topics = library.catalog(session, built.content.catalog, now=now()).topics
    topic = topics.get(c.topic)
    old = " (chuyên đề của năm trước)" if topic is not None and c.year not in topic.years else ""
    tree = f"{c.root_unit} ({root_name})" if root_name else f"{c.root_unit or 'mọi cây đơn vị'}"
    if c.root_unit and root_name is None:
        tree += " – không có đơn vị này trong cây đơn vị"
    quizzes = "; ".join(
        f"{q.topic} ({q.questions} câu"
        + (f", {q.time_limit_minutes} phút" if q.time_limit_minutes else "")
        + f", đạt {q.pass_percent}%)"
        for q in c.quizzes
    )
    lines = [
        f"Kế hoạch {c.id} – {tree}, năm {c.year}",
        f"Trạng thái: {status}; áp dụng từ {c.opens_on:%d/%m/%Y}",
        f"Chuyên đề: {c.topic}" + (f" – {topic.short_title}" if topic else "") + old,
        f"Bài thi: {quizzes or 'không có'}",
    ]
    rule = c.pledge
    if rule is not None:
        last = date.fromordinal(rule.submit_before.toordinal() - 1)
        late = "có nhận (ghi là nộp muộn)" if rule.late_allowed else "không nhận"
        lines.append(
            f"Bản đăng ký: nộp trước ngày {rule.submit_before:%d/%m/%Y} (đúng hạn đến hết "
            f"{last:%d/%m/%Y}); nộp muộn: {late}"
        )
        if rule.assessment_opens is not None:
            closes = (
                f"{rule.assessment_closes:%d/%m/%Y}" if rule.assessment_closes else "không đóng"
            )
            lines.append(f"Tự đánh giá: từ {rule.assessment_opens:%d/%m/%Y} đến {closes}")
    reports = "; ".join(f"{r.name}: {r.due:%d/%m/%Y}" for r in c.reports)
    lines.append(f"Hạn báo cáo: {reports or 'không có'}")
    lines.append(f"Tạo bởi {plan.created_by}, sửa lần cuối bởi {plan.updated_by}")
    return lines


def _current_ids(built: App, session: object, codes: set[str | None]) -> set[str]:
    from bot.services import plans

    moment = now()
    found = set()
    for code in codes:
        plan = plans.current(session, code, now=moment, tz=built.settings.tz)  # type: ignore[arg-type]
        if plan is not None:
            found.add(plan.id)
    return found


@plan_app.command("list")
def plan_list() -> None:
    """Liệt kê các kế hoạch theo cây đơn vị và năm."""
    from bot.db import session_scope
    from bot.services import plans, units

    built = build(load_settings())
    today = now().astimezone(built.settings.tz).date()
    with session_scope(built.db) as session:
        found = plans.read_all(session)
        roots = {u.code: u for u in units.children(session, None)}
        current = _current_ids(built, session, {p.root for p in found} | set(roots))
        if not found:
            typer.echo(
                "Chưa có kế hoạch nào. Tạo: congdoan plan new --root MÃ_ĐƠN_VỊ_GỐC --year NĂM"
            )
        for plan in sorted(found, key=lambda p: (p.root or "", p.year, p.id)):
            rule = plan.campaign.pledge
            deadline = (
                f"hạn nộp trước {rule.submit_before:%d/%m/%Y}" if rule else "không có bản đăng ký"
            )
            tree = plan.root or "mọi cây đơn vị"
            if plan.root and plan.root not in roots:
                tree += " (không có trong cây đơn vị)"
            typer.echo(
                f"{plan.id}\t{tree}\tnăm {plan.year}\t{plan.campaign.topic}\t{deadline}\t"
                f"{_status(plan, current, today)}"
            )
        for code, unit in sorted(roots.items()):
            if not any(
                p.year == today.year and p.ended_at is None for p in found if p.root == code
            ):
                typer.echo(f"Chú ý: {code} ({unit.name}) chưa có kế hoạch năm {today.year}.")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise fail(
            f"{option} phải có dạng YYYY-MM-DD, ví dụ 2027-04-10 (nhận được “{value}”)"
        ) from None


@plan_app.command("new")
def plan_new(
    root: Annotated[str, typer.Option(help="Mã đơn vị gốc của cây (LĐLĐ tỉnh)")] = "",
    year: Annotated[str, typer.Option(help="Năm của kế hoạch, ví dụ 2027")] = "",
    from_: Annotated[
        str, typer.Option("--from", help="Sao chép từ kế hoạch này (mặc định: kế hoạch gần nhất)")
    ] = "",
    topic: Annotated[str, typer.Option(help="Mã chuyên đề (tệp trong content/topics/)")] = "",
    pledge_deadline: Annotated[
        str, typer.Option(help="Hạn nộp bản đăng ký: nộp trước ngày này, dạng YYYY-MM-DD")
    ] = "",
) -> None:
    """Tạo kế hoạch năm cho một cây đơn vị, sao chép kế hoạch gần nhất (mọi ngày dời sang năm
    đó)."""
    from bot.db import session_scope
    from bot.services import library, plandrafts, plans, units
    from bot.services.plans import PlanError

    if not root.strip():
        raise fail("thiếu --root: mã đơn vị gốc của cây (ví dụ --root LDLD-TINH)")
    if not year.strip().isdigit() or len(year.strip()) != 4:
        raise fail(f"--year phải là một năm, ví dụ 2027 (nhận được “{year}”)")
    deadline = _day(pledge_deadline, "--pledge-deadline") if pledge_deadline else None
    built = build(load_settings())
    moment = now()
    today = moment.astimezone(built.settings.tz).date()
    with session_scope(built.db) as session:
        catalog = library.catalog(session, built.content.catalog, now=moment)
        unit = units.by_code(session, root)
        if unit is None:
            raise fail(f"không có đơn vị mã {root} (nạp cây đơn vị bằng congdoan units import)")
        if unit.parent_id is not None:
            top = units.ancestors(session, unit)[0]
            hint = f"kế hoạch làm cho cả cây, dùng --root {top.code}"
            raise fail(f"{unit.code} không phải đơn vị gốc: {hint}")
        try:
            made, _base = plandrafts.draft(
                session, catalog, root=unit.code, year=int(year), base_id=from_.strip() or None
            )
            if topic:
                made = made.model_copy(update={"topic": topic.strip()})
            if deadline is not None:
                made = plandrafts.with_deadline(made, deadline)
            made, dropped = plandrafts.without_past_reports(made, today)
            plandrafts.check(made, catalog, today=today)
            stored = plans.create(session, made, by="cli", now=moment)
        except PlanError as exc:
            raise _refusal(built, exc) from None
        status = "đang áp dụng" if stored.started(today) else "chưa bắt đầu"
        lines = _describe(built, stored, status, unit.name)
    typer.echo(f"Đã tạo kế hoạch {stored.id}.")
    if dropped:
        typer.echo(f"Không đưa vào kế hoạch các hạn báo cáo đã qua: {'; '.join(dropped)}.")
    for line in lines:
        typer.echo(line)


@plan_app.command("show")
def plan_show(plan_id: Annotated[str, typer.Argument(help="Mã kế hoạch, ví dụ demo-2027")]) -> None:
    """Xem một kế hoạch: chuyên đề, bài thi, hạn nộp, tự đánh giá, hạn báo cáo."""
    from bot.db import session_scope
    from bot.services import plans, units

    built = build(load_settings())
    today = now().astimezone(built.settings.tz).date()
    with session_scope(built.db) as session:
        plan = plans.get(session, plan_id.strip())
        if plan is None:
            raise fail(f"không có kế hoạch mã “{plan_id}” (xem: congdoan plan list)")
        unit = units.by_code(session, plan.root) if plan.root else None
        current = _current_ids(built, session, {plan.root})
        lines = _describe(built, plan, _status(plan, current, today), unit.name if unit else None)
    for line in lines:
        typer.echo(line)
