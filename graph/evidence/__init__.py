"""The two questions every punitive measure depends on, each answered in one place.

- ``graph.evidence.roles``: did a role hold on day D? (known, unknown, not_holding)
- ``graph.evidence.identity``: is this record this subject? (how an attachment was
  made, and which attachments may carry a punitive listing)

Rules, checks and pages read these answers; none of them decides on its own
(shared/DESIGN.md, "Evidence, in one place").
"""
