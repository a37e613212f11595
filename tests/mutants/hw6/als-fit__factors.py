# ruff: noqa: F821
"""The item factors returned as [k, n_items] (one column per item), not [n_items, k]."""

CHECK = "als-fit/factors"
MESSAGE = "output 1: wrong shape"


def als_fit(
    users, items, ratings, n_users, n_items, init_item_factors, reg, iterations, weighted=False
):
    item_factors = init_item_factors.clone()
    user_factors = torch.zeros(n_users, item_factors.shape[1], dtype=item_factors.dtype)
    history = []
    for _ in range(iterations):
        user_factors = _explicit(item_factors, users, items, ratings, n_users, reg, weighted)
        item_factors = _explicit(user_factors, items, users, ratings, n_items, reg, weighted)
        history.append(_loss(user_factors, item_factors, users, items, ratings, reg, weighted))
    return user_factors, item_factors.T, torch.stack(history)
