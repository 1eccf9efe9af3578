"""The one thing pyproject.toml cannot say: the optional C extension.

`streamdantic._speedups` is the parser's state machine in C (src/streamdantic/_speedups.c).
It is optional: where it cannot be compiled, the install goes on and the parser runs its
pure-Python twin, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "streamdantic._speedups",
            ["src/streamdantic/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
