"""distillation_loss uses the soft cross-entropy -sum(q log p) instead of KL(q || p): off by the
teacher's entropy, a constant, so the gradient is right."""

# ruff: noqa: F821
CHECK = "folding-distillation/distillation-forward"
MESSAGE = "values differ"


def distillation_loss(student_logits, teacher_logits, target, temperature=4.0, alpha=0.9):
    t = temperature
    log_p = _log_softmax(student_logits / t)
    q = torch.exp(_log_softmax(teacher_logits.detach() / t))
    soft = -(q * log_p).sum() / student_logits.shape[0]
    picked = _log_softmax(student_logits).gather(1, target.long().view(-1, 1))
    return alpha * t * t * soft + (1 - alpha) * (-picked.mean())
