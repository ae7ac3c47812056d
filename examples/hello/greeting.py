"""A local module of the example app: bundled into app/ next to the script."""


def hello(name):
    return "hello, %s" % name
