"""Flow modules, one per feature; ROUTERS is the one visible list, in registration order."""

from __future__ import annotations

from bot.flow import Router


def routers() -> list[Router]:
    from handlers import (
        admin,
        assessment,
        audit,
        broadcast,
        groups,
        help,
        link,
        planfields,
        plans,
        pledge,
        profile,
        quiz,
        report,
        review,
        start,
        stats,
        study,
    )

    assert planfields.router is plans.router  # the form's fields are steps of /kehoach

    return [
        start.router,
        study.router,
        quiz.router,
        pledge.router,
        assessment.router,
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
        plans.router,
    ]
