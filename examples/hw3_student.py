"""An example Homework 3 submission with a few realistic mistakes (for the README).

What is wrong on purpose, and what the grader should say about it:
- scaled_dot_product_attention: a boolean attn_mask is read as "True: masked" (the module's
  convention), but the function's True means "may attend".
- build_vocab: ties are left in Counter.most_common order (first appearance), not sorted by the
  token string.
- masked_mean: divides the masked sum by T instead of each sentence's length, and
  BagOfEmbeddings inherits the mistake.
- beam_search: ignores the length penalty (selects and returns raw cumulative log-probabilities).
- corpus_bleu: no brevity penalty.
- bio_to_spans: strict IOB2 (an I- tag after O is dropped); span_scores inherits it.
Everything else is correct, written in a different style from the reference.
"""

import math
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F

# --- attention ---------------------------------------------------------------------------------


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None
):
    d = query.size(-1)
    s = scale if scale is not None else 1 / math.sqrt(d)
    scores = torch.matmul(query, key.transpose(-1, -2)) * s
    if is_causal:
        causal = torch.tril(torch.ones(query.size(-2), key.size(-2))).bool()
        scores = scores.masked_fill(~causal, -math.inf)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(attn_mask, -math.inf)  # mistake: True means "may attend"
        else:
            scores = scores + attn_mask
    p = torch.softmax(scores, dim=-1)
    if dropout_p > 0:
        p = F.dropout(p, dropout_p, training=True)
    return torch.matmul(p, value)


class MultiheadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=True):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
    ):
        b, tgt_len, _ = query.shape
        src_len = key.shape[1]
        biases = (
            [None] * 3 if self.in_proj_bias is None else self.in_proj_bias.split(self.embed_dim)
        )
        weights = self.in_proj_weight.split(self.embed_dim)
        q, k, v = (
            F.linear(x, w, bb).view(b, -1, self.num_heads, self.head_dim).permute(0, 2, 1, 3)
            for x, w, bb in zip((query, key, value), weights, biases, strict=True)
        )
        scores = torch.einsum("bhld,bhsd->bhls", q, k) / math.sqrt(self.head_dim)
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                scores = scores.masked_fill(attn_mask.view(1, 1, tgt_len, src_len), -math.inf)
            else:
                scores = scores + attn_mask
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask.view(b, 1, 1, src_len), -math.inf)
        attn = torch.softmax(scores, dim=-1)
        attn = F.dropout(attn, self.dropout, training=self.training)
        out = torch.einsum("bhls,bhsd->bhld", attn, v).permute(0, 2, 1, 3).reshape(b, tgt_len, -1)
        out = self.out_proj(out)
        if not need_weights:
            return out, None
        return out, (attn.mean(dim=1) if average_attn_weights else attn)


def positional_encoding(max_len, d_model):
    pe = torch.zeros(max_len, d_model)
    position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


# --- text classification -------------------------------------------------------------------


def build_vocab(
    token_lists, min_freq=1, specials=("<pad>", "<unk>", "<bos>", "<eos>"), max_size=None
):
    counter = Counter()
    for tokens in token_lists:
        counter.update(tokens)
    vocab = {}
    for s in specials:
        if s not in vocab:
            vocab[s] = len(vocab)
    added = 0
    for token, count in counter.most_common():  # mistake: ties stay in order of appearance
        if count < min_freq or token in vocab:
            continue
        if max_size is not None and added >= max_size:
            break
        vocab[token] = len(vocab)
        added += 1
    return vocab


def encode(tokens, vocab, unk="<unk>"):
    unk_id = vocab[unk]
    return torch.tensor([vocab[t] if t in vocab else unk_id for t in tokens], dtype=torch.long)


def pad_batch(sequences, padding_value=0):
    longest = max(len(s) for s in sequences)
    rows = []
    for s in sequences:
        pad = torch.full((longest - len(s),), padding_value, dtype=s.dtype)
        rows.append(torch.cat([s, pad]))
    return torch.stack(rows), torch.tensor([len(s) for s in sequences], dtype=torch.long)


def masked_mean(x, lengths):
    mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
    return torch.where(mask, x, torch.zeros_like(x)).sum(1) / x.shape[1]  # mistake: / T


class BagOfEmbeddings(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_classes, padding_idx=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.fc = nn.Linear(embed_dim, num_classes)

    def forward(self, tokens, lengths):
        return self.fc(masked_mean(self.embedding(tokens), lengths))


# --- decoding --------------------------------------------------------------------------------


def greedy_decode(step, bos_id, eos_id, max_len, batch_size=1, pad_id=0):
    seqs = torch.full((batch_size, 1), bos_id, dtype=torch.long)
    finished = [False] * batch_size
    for _ in range(max_len):
        nxt = step(seqs).argmax(-1)
        for i in range(batch_size):
            if finished[i]:
                nxt[i] = pad_id
            elif nxt[i] == eos_id:
                finished[i] = True
        seqs = torch.cat([seqs, nxt[:, None]], dim=1)
        if all(finished):
            break
    return seqs[:, 1:]


def beam_search(step, bos_id, eos_id, beam_size, max_len, length_penalty=0.0):
    beams = [([], 0.0)]
    done = []
    for _ in range(max_len):
        logp = step(torch.tensor([[bos_id] + toks for toks, _ in beams])).double()
        candidates = []
        for h, (_toks, score) in enumerate(beams):
            for tok in range(logp.shape[1]):
                candidates.append((score + logp[h, tok].item(), tok, h))
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        survivors = []
        for score, tok, h in candidates[:beam_size]:
            new = (beams[h][0] + [tok], score)
            (done if tok == eos_id else survivors).append(new)
        beams = survivors
        if not beams:
            break
    else:
        done.extend(beams)
    # mistake: the length penalty is ignored (raw cumulative log-probability)
    best = max(done, key=lambda d: d[1])
    return torch.tensor(best[0], dtype=torch.long), best[1]


def corpus_bleu(hypotheses, references, max_n=4):
    num = [0] * max_n
    den = [0] * max_n
    for hyp, refs in zip(hypotheses, references, strict=True):
        for n in range(1, max_n + 1):
            grams = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
            best = Counter()
            for r in refs:
                best |= Counter(tuple(r[i : i + n]) for i in range(len(r) - n + 1))
            num[n - 1] += sum(min(c, best[g]) for g, c in grams.items())
            den[n - 1] += max(1, len(hyp) - n + 1)
    if 0 in num:
        return 0.0
    # mistake: no brevity penalty
    return math.exp(sum(math.log(a / b) for a, b in zip(num, den, strict=True)) / max_n)


# --- NER -------------------------------------------------------------------------------------


def bio_to_spans(tags):
    spans = []
    current = None
    for i, tag in enumerate(tags):
        if tag.startswith("B-"):
            if current:
                spans.append(tuple(current))
            current = [tag[2:], i, i]
        elif tag.startswith("I-") and current and current[0] == tag[2:]:
            current[2] = i
        else:  # mistake: an I- tag that starts an entity is dropped (strict IOB2)
            if current:
                spans.append(tuple(current))
            current = None
    if current:
        spans.append(tuple(current))
    return spans


def span_scores(y_true, y_pred):
    gold = {(k, *s) for k, seq in enumerate(y_true) for s in bio_to_spans(seq)}
    guess = {(k, *s) for k, seq in enumerate(y_pred) for s in bio_to_spans(seq)}
    hit = len(gold & guess)
    p = hit / len(guess) if guess else 0.0
    r = hit / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)


def crf_log_likelihood(emissions, tags, mask, start_transitions, end_transitions, transitions):
    mask = mask.bool()
    B, T, K = emissions.shape
    idx = torch.arange(B)
    gold = start_transitions[tags[:, 0]] + emissions[idx, 0, tags[:, 0]]
    log_alpha = start_transitions + emissions[:, 0]
    for t in range(1, T):
        m = mask[:, t]
        step_score = transitions[tags[:, t - 1], tags[:, t]] + emissions[idx, t, tags[:, t]]
        gold = gold + torch.where(m, step_score, torch.zeros_like(step_score))
        nxt = torch.logsumexp(
            log_alpha[:, :, None] + transitions[None] + emissions[:, t, None, :], 1
        )
        log_alpha = torch.where(m[:, None], nxt, log_alpha)
    last_tag = tags[idx, mask.long().sum(1) - 1]
    gold = gold + end_transitions[last_tag]
    return gold - torch.logsumexp(log_alpha + end_transitions, dim=1)


def crf_decode(emissions, mask, start_transitions, end_transitions, transitions):
    mask = mask.bool()
    B, T, K = emissions.shape
    result = torch.full((B, T), -1, dtype=torch.long)
    for b in range(B):
        n = int(mask[b].sum())
        score = start_transitions + emissions[b, 0]
        back = []
        for t in range(1, n):
            total = score[:, None] + transitions + emissions[b, t][None, :]
            score, arg = total.max(0)
            back.append(arg)
        score = score + end_transitions
        best = [int(score.argmax())]
        for arg in reversed(back):
            best.append(int(arg[best[-1]]))
        result[b, :n] = torch.tensor(best[::-1])
    return result
