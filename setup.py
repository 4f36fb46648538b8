"""Builds the Cython kernels in cyext/; everything else is declared in pyproject.toml.

Set NEWRAL_PORTABLE_MULHI=1 to compile the portable 64x64->128 multiply (the path
MSVC takes, which has no unsigned __int128) on any compiler.
"""

import os
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

macros = []
if os.environ.get("NEWRAL_PORTABLE_MULHI") == "1":
    macros.append(("NEWRAL_PORTABLE_MULHI", "1"))

if sys.platform == "win32":
    compile_args = ["/O2"]
else:
    compile_args = ["-O3"]

# C headers and Cython includes: recompile when one changes, even one no .pyx names
headers = sorted(str(p) for pattern in ("*.h", "*.pxi") for p in Path("cyext").glob(pattern))
extensions = [
    Extension(
        f"cyext.{name}",
        [f"cyext/{name}.pyx"],
        include_dirs=["cyext"],
        depends=headers,
        define_macros=macros,
        extra_compile_args=compile_args,
    )
    for name in sorted(p.stem for p in Path("cyext").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )
)
