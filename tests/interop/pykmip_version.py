"""Pytest plugin: runs PyKMIP's own test suite in the KMIP version named by
CRYPTAINER_KMIP_VERSION ("2.0", ...), or the client's default when unset.

PyKMIP's suite builds its clients (KMIPProxy, ProxyKmipClient) without a
version, so they speak the client's default (KMIP 1.2). This plugin changes
that default only; the suite's files are run as PyKMIP ships them. Loaded with
`pytest -p pykmip_version` and this directory on PYTHONPATH, by
crates/cli/tests/pykmip_suite.rs.
"""

import os

from kmip.core import enums
from kmip.services import kmip_client

_VERSIONS = {
    "1.0": enums.KMIPVersion.KMIP_1_0,
    "1.1": enums.KMIPVersion.KMIP_1_1,
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.3": enums.KMIPVersion.KMIP_1_3,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}

_wanted = os.environ.get("CRYPTAINER_KMIP_VERSION")
if _wanted:
    _version = _VERSIONS[_wanted]
    _original_init = kmip_client.KMIPProxy.__init__

    def _init_with_version(self, *args, **kwargs):
        # ProxyKmipClient passes kmip_version=None explicitly.
        if kwargs.get("kmip_version") is None:
            kwargs["kmip_version"] = _version
        _original_init(self, *args, **kwargs)

    kmip_client.KMIPProxy.__init__ = _init_with_version
