"""Flow modules, one per feature; ROUTERS is the one visible list, in registration order."""

from __future__ import annotations

from bot.flow import Router


def routers() -> list[Router]:
    from handlers import (
        admin,
        audit,
        broadcast,
        groups,
        help,
        link,
        pledge,
        profile,
        quiz,
        report,
        review,
        start,
        stats,
        study,
    )

    return [
        start.router,
        study.router,
        quiz.router,
        pledge.router,
        review.router,
        stats.router,
        report.router,
        broadcast.router,
        groups.router,
        profile.router,
        link.router,
        audit.router,
        help.router,
        admin.router,
    ]
