"""Test oracles: slow, literal implementations of SupCon and HMLC that the fast losses of `hmlc_nb.losses` are
checked against (in nbs/02_losses.ipynb, tests/ and benchmarks/). Our own code, written from the definitions."""
import torch

def naive_supcon(features, labels=None, mask=None, temperature=0.07, base_temperature=0.07, weights=None):
    """Khosla et al. eq. 2 with explicit loops over anchors and contrasts, in float64 (a test oracle: slow); `weights`
    `[B]`: a weighted mean over the anchors (each view of sample `i` weighs `weights[i]`) instead of the plain mean."""
    B, V, D = features.shape
    z = [features[i, v].double() for v in range(V) for i in range(B)]  # index a = v*B + i
    sample = [i for v in range(V) for i in range(B)]
    if mask is None:
        lab = (torch.arange(B) if labels is None else labels).tolist()
        weight = lambda i, j: float(lab[i] == lab[j])
    else:
        weight = lambda i, j: float(mask[i, j])
    losses, ws = [], []
    for a in range(len(z)):
        contrasts = [c for c in range(len(z)) if c != a]
        denom = sum(torch.exp(z[a] @ z[c] / temperature) for c in contrasts)
        w = [weight(sample[a], sample[c]) for c in contrasts]
        if sum(w) == 0: continue  # no positive: left out of the mean
        s = sum(wc * torch.log(torch.exp(z[a] @ z[c] / temperature) / denom) for c, wc in zip(contrasts, w) if wc)
        losses.append(-(temperature / base_temperature) * s / sum(w))
        ws.append(1. if weights is None else float(weights[sample[a]]))
    if not losses: return torch.zeros((), dtype=torch.float64)
    ws = torch.tensor(ws, dtype=torch.float64)
    return (torch.stack(losses) * ws).sum() / ws.sum()

def reference_supcon(features, mask, temperature=0.07, base_temperature=0.07, eps=0., drop_no_positive=True):
    """The reference SupCon algorithm with a `[B, B]` `mask`: tiled masks, max shift, exp/log. `eps=1e-9` is
    SupContrast's guard; `drop_no_positive=False` keeps the reference's NaN for anchors without a positive."""
    B, V, D = features.shape
    mask = mask.float()
    views = torch.cat(torch.unbind(features, dim=1), dim=0)
    logits = views @ views.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True)[0].detach()
    mask = mask.repeat(V, V)
    not_self = torch.ones_like(mask).scatter(1, torch.arange(B * V, device=mask.device)[:, None], 0)
    mask = mask * not_self
    log_prob = logits - torch.log((torch.exp(logits) * not_self).sum(1, keepdim=True) + eps)
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask.sum(1)
    loss = -(temperature / base_temperature) * mean_log_prob_pos
    return loss[mask.sum(1) > 0].mean() if drop_no_positive else loss.mean()

def reference_hmlc(features, labels, loss_type='hmce', temperature=0.07, base_temperature=0.07,
                    layer_penalty=None, naive=False):
    "The reference HMLC algorithm step by step (per-row mask stacking, one SupCon call per level); a test oracle."
    supcon = ((lambda f, m: naive_supcon(f, mask=m, temperature=temperature, base_temperature=base_temperature)) if naive
              else (lambda f, m: reference_supcon(f, m, temperature, base_temperature)))
    layer_penalty = layer_penalty or (lambda x: torch.pow(2, x))
    L = labels.shape[1]
    keep = torch.ones_like(labels)
    total, max_lower = torch.tensor(0.), torch.tensor(float('-inf'))
    for l in range(1, L):
        keep[:, L - l:] = 0
        layer_labels = labels * keep
        mask = torch.stack([torch.all(layer_labels[i] == layer_labels, dim=1) for i in range(len(layer_labels))]).float()
        layer_loss = supcon(features, mask)
        if loss_type == 'hmc':
            total = total + layer_penalty(torch.tensor(1 / l, dtype=torch.float32)) * layer_loss
        elif loss_type == 'hce':
            layer_loss = torch.max(max_lower.to(layer_loss), layer_loss)
            total = total + layer_loss
        elif loss_type == 'hmce':
            layer_loss = torch.max(max_lower.to(layer_loss), layer_loss)
            total = total + layer_penalty(torch.tensor(1 / l, dtype=torch.float32)) * layer_loss
        else: raise ValueError(f'Unknown loss {loss_type}')
        uniq, inverse = torch.unique(layer_labels, sorted=True, return_inverse=True, dim=0)
        first = torch.stack([(inverse == k).nonzero()[0, 0] for k in range(len(uniq))])
        max_lower = torch.max(max_lower.to(layer_loss), layer_loss)
        labels, keep, features = labels[first], keep[first], features[first]
    return total / labels.shape[1]
