"""`congdoan roles`: grant, revoke and list the officer and admin roles."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.clibase import fail
from bot.clibase import load_settings as _settings

roles_app = typer.Typer(help="Phân quyền", no_args_is_help=True)


@roles_app.command("grant")
def roles_grant(
    platform: Annotated[str, typer.Option(help="telegram hoặc zalo")],
    user: Annotated[str, typer.Option(help="Mã người dùng trên nền tảng")],
    role: Annotated[str, typer.Option(help="officer hoặc admin")],
    unit: Annotated[str, typer.Option(help="Mã đơn vị phụ trách (bắt buộc với officer)")] = "",
) -> None:
    """Cấp quyền cán bộ công đoàn (officer) hoặc quản trị viên (admin) cho người đã khai báo
    thông tin (/start)."""
    from bot.db import make_engine, session_scope, upgrade
    from bot.models import Member, RoleName
    from bot.services import units
    from bot.services.members import identity_for
    from bot.services.roles import RoleError, grant

    settings = _settings()
    if platform not in {"telegram", "zalo"}:
        raise fail("--platform phải là telegram hoặc zalo")
    if role not in {"officer", "admin"}:
        raise fail("--role phải là officer hoặc admin")
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    with session_scope(engine) as session:
        identity = identity_for(session, platform=platform, user_id=user.strip())
        member = (
            session.get(Member, identity.member_id) if identity and identity.member_id else None
        )
        if member is None or member.deleted_at is not None:
            raise fail(f"người dùng {platform}:{user} chưa khai báo thông tin (/start)")
        scope = units.by_code(session, unit) if unit else None
        if unit and scope is None:
            raise fail(f"không có đơn vị mã {unit}")
        try:
            grant(session, member=member, role=RoleName(role), unit=scope, by="cli")
        except RoleError as exc:
            raise fail(str(exc)) from None
    where = f", phụ trách {scope.name}" if scope else ""
    typer.echo(f"Đã cấp quyền {role} cho {platform}:{user}{where}.")


def _member_of(session, platform: str, user: str):  # type: ignore[no-untyped-def]
    from bot.models import Member
    from bot.services.members import identity_for

    identity = identity_for(session, platform=platform, user_id=user.strip())
    member = session.get(Member, identity.member_id) if identity and identity.member_id else None
    if member is None or member.deleted_at is not None:
        raise fail(f"người dùng {platform}:{user} chưa khai báo thông tin (/start)")
    return member


@roles_app.command("revoke")
def roles_revoke(
    platform: Annotated[str, typer.Option(help="telegram hoặc zalo")] = "",
    user: Annotated[str, typer.Option(help="Mã người dùng trên nền tảng")] = "",
    role: Annotated[str, typer.Option(help="officer hoặc admin (bỏ trống: mọi quyền)")] = "",
    unit: Annotated[str, typer.Option(help="Chỉ thu hồi quyền phụ trách đơn vị này")] = "",
) -> None:
    """Thu hồi quyền cán bộ công đoàn hoặc quản trị viên; có hiệu lực từ tin nhắn tiếp theo."""
    from bot.db import make_engine, session_scope, upgrade
    from bot.models import RoleName
    from bot.services import roles, units

    settings = _settings()
    if platform not in {"telegram", "zalo"}:
        raise fail("--platform phải là telegram hoặc zalo")
    if not user.strip():
        raise fail("thiếu --user (mã người dùng trên nền tảng, xem trong /toi)")
    if role and role not in {"officer", "admin"}:
        raise fail("--role phải là officer hoặc admin")
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    with session_scope(engine) as session:
        member = _member_of(session, platform, user)
        scope = units.by_code(session, unit) if unit else None
        if unit and scope is None:
            raise fail(f"không có đơn vị mã {unit}")
        taken = roles.revoke(
            session, member=member, role=RoleName(role) if role else None, unit=scope, by="cli"
        )
        if not taken:
            what = f"quyền {role}" if role else "quyền nào"
            where = f" tại {scope.code}" if scope else ""
            raise fail(f"{platform}:{user} không có {what}{where} để thu hồi", code=1)
    typer.echo(f"Đã thu hồi {len(taken)} quyền của {platform}:{user}.")
    if user.strip() in settings.admin_ids(platform):
        typer.echo(
            f"Lưu ý: {platform}:{user} vẫn là quản trị viên vì có trong ADMIN_"
            f"{platform.upper()}_IDS (sửa tệp .env rồi khởi động lại bot)."
        )


@roles_app.command("list")
def roles_list(
    unit: Annotated[
        str, typer.Option(help="Chỉ những người phụ trách đơn vị này và cấp dưới")
    ] = "",
) -> None:
    """Liệt kê ai đang giữ quyền cán bộ công đoàn, quản trị viên."""

    from sqlmodel import select

    from bot.db import make_engine, session_scope, upgrade
    from bot.models import Identity
    from bot.services import roles, units
    from bot.timefmt import fmt_date

    settings = _settings()
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    with session_scope(engine) as session:
        scope = units.by_code(session, unit) if unit else None
        if unit and scope is None:
            raise fail(f"không có đơn vị mã {unit}")
        found = roles.holders(session, within=scope)
        if not found:
            typer.echo("Chưa có ai được cấp quyền" + (f" trong {scope.code}." if scope else "."))
        for holder in found:
            accounts = session.exec(
                select(Identity).where(Identity.member_id == holder.member.id)
            ).all()
            refs = ", ".join(f"{i.platform}:{i.platform_user_id}" for i in accounts) or "—"
            where = f"{holder.unit.code} ({holder.unit.name})" if holder.unit else "mọi đơn vị"
            granted = fmt_date(holder.grant.granted_at, settings.tz)
            typer.echo(
                f"{holder.grant.role}\t{where}\t{holder.member.full_name or ''}\t{refs}\t"
                f"cấp {granted} bởi {holder.grant.granted_by}"
            )
    if not unit:
        for platform in ("telegram", "zalo"):
            for user_id in sorted(settings.admin_ids(platform)):
                typer.echo(
                    f"admin\tmọi đơn vị\t(theo ADMIN_{platform.upper()}_IDS)\t{platform}:{user_id}"
                )
