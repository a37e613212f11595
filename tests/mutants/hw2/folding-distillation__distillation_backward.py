"""distillation_loss lets the gradient reach the teacher's logits."""

# ruff: noqa: F821
CHECK = "folding-distillation/distillation-backward"
MESSAGE = "gradient of argument 1"


def distillation_loss(student_logits, teacher_logits, target, temperature=4.0, alpha=0.9):
    t = temperature
    log_p = _log_softmax(student_logits / t)
    log_q = _log_softmax(teacher_logits / t)
    kl = (torch.exp(log_q) * (log_q - log_p)).sum() / student_logits.shape[0]
    picked = _log_softmax(student_logits).gather(1, target.long().view(-1, 1))
    return alpha * t * t * kl + (1 - alpha) * (-picked.mean())
