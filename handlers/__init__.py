"""Flow modules, one per feature; ROUTERS is the one visible list, in registration order."""

from __future__ import annotations

from bot.flow import Router


def routers() -> list[Router]:
    from handlers import (
        admin,
        assessment,
        audit,
        breakthroughs,
        broadcast,
        conferences,
        examples,
        goodmodels,
        groups,
        help,
        link,
        missing,
        planfields,
        plans,
        pledge,
        profile,
        quiz,
        report,
        review,
        review_examples,
        start,
        stats,
        study,
        topics,
    )

    assert planfields.router is plans.router  # the form's fields are steps of /kehoach

    return [
        start.router,
        study.router,
        quiz.router,
        pledge.router,
        assessment.router,
        review.router,
        review_examples.router,
        missing.router,
        stats.router,
        report.router,
        conferences.router,
        breakthroughs.router,
        examples.router,
        goodmodels.router,
        broadcast.router,
        groups.router,
        profile.router,
        link.router,
        audit.router,
        help.router,
        admin.router,
        plans.router,
        topics.router,
    ]
