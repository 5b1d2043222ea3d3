"""The org configuration as a conda package: ``<slug>-conda-config``.

A ``noarch: generic`` package that installs the org condarc as ``condarc.d/<slug>.yml``, a
record of it as ``etc/orgconda/config.json`` and the bundled CA certificate. Installers list
it in ``specs`` and its name in ``aggressive_update_packages``, so publishing a new build to the
internal channel reconfigures existing installs the next time conda changes their base
environment.

Where the settings live: with the package, construct.yaml gets no ``condarc:`` at all. conda
reads ``<prefix>/.condarc`` before ``<prefix>/condarc.d/*.yml``, and the first file wins a
``#!final`` contest, so a baked copy would pin the value of the day of install forever.

Modules: ``package`` (what it holds, pure), ``archive`` (the reproducible ``.conda``),
``channel`` (the local channel, the publish channel, constructor's cache), ``command``
(``python build.py config-package``).
"""

from .package import ConfigPackage, conda_version, describe, expectation, package_problems

__all__ = ["ConfigPackage", "conda_version", "describe", "expectation", "package_problems"]
