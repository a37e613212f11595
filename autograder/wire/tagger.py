"""The grader's small sequence tagger for the NER benchmark: its emissions, on both sides.

Embedding -> bidirectional LSTM -> linear layer, giving emission scores [B, T, K]; the CRF's
``start_transitions`` [K], ``end_transitions`` [K] and ``transitions`` [K, K] are parameters of
the same module. The worker trains it with the student's CRF log-likelihood; the trusted side
rebuilds it from the trained state and decodes with its own Viterbi.
"""

from __future__ import annotations

import torch
from torch import nn

STATE = (
    "embed.weight",
    "lstm.weight_ih_l0",
    "lstm.weight_hh_l0",
    "lstm.bias_ih_l0",
    "lstm.bias_hh_l0",
    "lstm.weight_ih_l0_reverse",
    "lstm.weight_hh_l0_reverse",
    "lstm.bias_ih_l0_reverse",
    "lstm.bias_hh_l0_reverse",
    "out.weight",
    "out.bias",
    "start_transitions",
    "end_transitions",
    "transitions",
)


class Tagger(nn.Module):
    def __init__(self, vocab: int, tags: int, embed: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, padding_idx=0)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, tags)
        # pytorch-crf's initialisation: uniform in [-0.1, 0.1]
        self.start_transitions = nn.Parameter(torch.empty(tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(tags).uniform_(-0.1, 0.1))
        self.transitions = nn.Parameter(torch.empty(tags, tags).uniform_(-0.1, 0.1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Emission scores [B, T, K] for token ids [B, T] (padding positions included)."""
        states, _ = self.lstm(self.embed(tokens))
        return self.out(states)


def rebuild(state: dict[str, torch.Tensor]) -> Tagger:
    """A tagger holding a trained ``state`` (names as in ``STATE``), in eval mode."""
    vocab, embed = state["embed.weight"].shape
    tags = state["transitions"].shape[0]
    hidden = state["lstm.weight_hh_l0"].shape[1]
    model = Tagger(int(vocab), int(tags), int(embed), int(hidden))
    model.load_state_dict({k: state[k] for k in STATE})
    return model.eval()
