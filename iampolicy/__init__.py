"""IAM policy evaluation, standard library only, for the sandbox (which
enforces policies: `Mode.ENFORCE`) and for `doctor` (which audits them:
`Mode.AUDIT`). The two differ only in what they do with a statement they
cannot decide; `iampolicy.evaluator` says why.

- `variables`: policy variables, escapes and wildcards;
- `conditions`: the condition operators;
- `evaluator`: statements, Deny > Allow > implicit deny, and the mode;
- `explain`: the enforcer's decision with every statement's part in it, and
  one sentence for a person (the sandbox's `/_sandbox/decisions`).
"""

from iampolicy.conditions import NotUnderstood
from iampolicy.evaluator import Decision, Effect, Mode, Undecided, evaluate
from iampolicy.explain import Explanation, explain
from iampolicy.variables import like, substitute

__all__ = [
    "Decision", "Effect", "Explanation", "Mode", "NotUnderstood", "Undecided", "evaluate", "explain", "like", "substitute",
]
