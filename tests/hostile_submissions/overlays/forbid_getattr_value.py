"""softmax passes getattr around as a value and looks the Tensor method up by a computed name:
a dynamic lookup, charged to softmax only."""


def softmax(z, dim=-1):
    fetch = getattr
    return fetch(z, "soft" + "max")(dim)
