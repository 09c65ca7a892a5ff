"""IAM policy evaluation, standard library only, for the sandbox (which
enforces policies: `Mode.ENFORCE`) and for `doctor` (which audits them:
`Mode.AUDIT`). The two differ only in what they do with a statement they
cannot decide; `iampolicy.evaluator` says why.

- `variables`: policy variables, escapes and wildcards;
- `conditions`: the condition operators;
- `evaluator`: statements, Deny > Allow > implicit deny, and the mode.
"""

from iampolicy.conditions import NotUnderstood
from iampolicy.evaluator import Decision, Effect, Mode, Undecided, evaluate
from iampolicy.variables import like, substitute

__all__ = ["Decision", "Effect", "Mode", "NotUnderstood", "Undecided", "evaluate", "like", "substitute"]
