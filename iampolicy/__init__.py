"""IAM policy evaluation, standard library only, for the sandbox (which
enforces policies) and for `doctor` (which audits them)."""

from iampolicy.evaluator import Decision, Mode, evaluate, like, substitute

__all__ = ["Decision", "Mode", "evaluate", "like", "substitute"]
