"""A local module next to the test app's script."""


def double(x):
    return 2 * x
