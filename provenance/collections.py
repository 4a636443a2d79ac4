"""Many records at once: a catalogue sheet planned and checked whole, then registered row by row
(``ingest-batch``), and the audit of a whole archive at scale (a sample, a time budget, several processes
or a cluster, a signed report). See ``docs/api.md``, "Collections".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.batch.plan": "plan_batch=make_plan run_batch=run_plan BatchPlan BatchResult",
    "provenance.batch.problems": "SheetProblem",
    "provenance.audit.run": "plan_audit=make_plan open_audit=prepare check_audit_plan=check_plan run_audit",
    "provenance.audit.check": "check_audit_report=check_report",
}

__all__ = [
    "BatchPlan",
    "BatchResult",
    "SheetProblem",
    "check_audit_plan",
    "check_audit_report",
    "open_audit",
    "plan_audit",
    "plan_batch",
    "run_audit",
    "run_batch",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.audit.check import check_report as check_audit_report
    from provenance.audit.run import check_plan as check_audit_plan
    from provenance.audit.run import make_plan as plan_audit
    from provenance.audit.run import prepare as open_audit
    from provenance.audit.run import run_audit
    from provenance.batch.plan import BatchPlan, BatchResult
    from provenance.batch.plan import make_plan as plan_batch
    from provenance.batch.plan import run_plan as run_batch
    from provenance.batch.problems import SheetProblem
