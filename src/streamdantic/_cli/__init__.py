"""The command-line application: ``streamdantic demo|replay|check|serve`` (private).

The top layer of the package: it uses the library (`streamdantic`, `streamdantic.sse`,
`streamdantic.starlette`) like any application would, and nothing in the library imports it
(tests/test_layering.py). ``main`` parses the command line; each command lives in its own
module, imported only when it runs. ``web/`` is the page `serve` renders and ``data/`` the
recorded examples `demo` and `serve` replay.
"""
