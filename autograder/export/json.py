"""JSON export: the grade sheet with exact and display points, for scripts and archives."""

from __future__ import annotations

import json
from typing import Any

from autograder.export.sheet import GradeSheet
from autograder.points import decimal_text, display_points, parse_fraction


def _points(exact: str | None) -> dict[str, Any]:
    if exact is None:
        return {"score": None, "score_exact": None}
    return {"score": display_points(parse_fraction(exact)), "score_exact": exact}


def to_json_data(sheet: GradeSheet) -> dict[str, Any]:
    """Plain data: per student the counted attempt, per-task points and every override."""
    students = []
    for s in sheet.students:
        students.append(
            {
                "student_id": s.student_id,
                "status": s.status,
                "reason": s.reason,
                **_points(s.total_exact),
                "max_score": display_points(parse_fraction(s.max_score_exact)),
                "max_score_exact": s.max_score_exact,
                "attempt": s.attempt.model_dump(mode="json", exclude={"report"}),
                "tasks": [
                    {
                        "id": t.task_id,
                        **_points(t.score_exact),
                        "max_score_exact": t.max_score_exact,
                        "status": t.status,
                        "message": t.message,
                        "original_score_exact": t.original_exact,
                        "adjustment": t.adjustment.model_dump(mode="json")
                        if t.adjustment
                        else None,
                    }
                    for t in s.tasks
                ],
            }
        )
    return {
        "assignment": sheet.assignment,
        "policy": sheet.policy,
        "max_score": decimal_text(sheet.max_score),
        "max_score_exact": sheet.max_score_exact,
        "tasks": [t.model_dump(mode="json") for t in sheet.tasks],
        "students": students,
        "unidentified": [
            a.model_dump(mode="json", include={"student_id", "source", "reason", "graded_at"})
            for a in sheet.unidentified
        ],
    }


def to_json(sheet: GradeSheet) -> str:
    """:func:`to_json_data` as indented JSON text ending in a newline."""
    return json.dumps(to_json_data(sheet), indent=2, ensure_ascii=False) + "\n"
