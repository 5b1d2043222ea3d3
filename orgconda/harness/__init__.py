"""`build.py verify`: install an installer like a user would, then prove what conda sends.

Modules, each owning one thing:
- ``spec``: a small matcher for version specs such as ``>=0.8.1,<0.9``.
- ``agent``: parse a User-Agent into conda's part and the ordered tokens after ``aau/``.
- ``capture``: a loopback HTTP server posing as a channel, and the wire-log formats.
- ``observation``: what one verification saw (files in the recorded-fixture layout).
- ``expect``: what an installer promises (from ``dist/manifest.json`` or the command line).
- ``checks``: pure check functions, Observation + Expectation -> CheckResults.
- ``install``: the effects: silent install, clean environment, conda commands.
- ``plan``: which installers to verify on this host, with which expectations.
- ``report``: human summary, JSON report, JUnit XML.
- ``command``: the ``verify`` subcommand's arguments and entry point.
"""
