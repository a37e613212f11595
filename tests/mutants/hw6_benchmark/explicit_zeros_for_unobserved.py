# ruff: noqa: F821
"""Unobserved ratings taken as zeros: plain ridge regression on the dense rating matrix, so the
model learns that most movies are rated 0."""


def als_fit(
    users, items, ratings, n_users, n_items, init_item_factors, reg, iterations, weighted=False
):
    dtype, k = init_item_factors.dtype, init_item_factors.shape[1]
    dense = torch.zeros(n_users, n_items, dtype=dtype)
    dense[users, items] = ratings.to(dtype)
    eye = torch.eye(k, dtype=dtype)
    item_factors = init_item_factors.clone()
    history = []
    for _ in range(iterations):
        user_factors = torch.linalg.solve(
            item_factors.T @ item_factors + reg * eye, item_factors.T @ dense.T
        ).T
        item_factors = torch.linalg.solve(
            user_factors.T @ user_factors + reg * eye, user_factors.T @ dense
        ).T
        history.append(((dense - user_factors @ item_factors.T) ** 2).sum())
    return user_factors, item_factors, torch.stack(history)
