"""Makes the interop scripts import the azure-eventhub that .ci/install-python-clients.sh unpacked (INTEROP_SITE),
never another copy on the machine.

Putting INTEROP_SITE first on sys.path (or PYTHONPATH) is not enough: there `azure` is a namespace package
(a folder without __init__.py), and Python prefers a regular package of the same name anywhere on the path.
Debian's python3-azure installs one (/usr/lib/python3/dist-packages/azure/__init__.py, with extend_path), so
`azure.eventhub` became its 5.11 instead of ours. Binding `azure` to our folder alone before anything imports
it settles it. The scripts run with `python3 -s -E -B`: no user site-packages, no PYTHON* variables, no .pyc
files.

Import this module before any azure module. Run as a script, it prints what loads, as one JSON line.
"""
import importlib.machinery
import importlib.util
import json
import os
import sys

SITE = os.environ.get("INTEROP_SITE", "")


def _bind_azure_namespace():
    if not SITE or not os.path.isdir(os.path.join(SITE, "azure")):
        return
    sys.path.insert(0, SITE)
    spec = importlib.machinery.PathFinder.find_spec("azure", [SITE])
    if spec is not None and "azure" not in sys.modules:
        sys.modules["azure"] = importlib.util.module_from_spec(spec)


def azure_eventhub():
    """The azure-eventhub that imports: its version, its folder, and whether that folder is in INTEROP_SITE."""
    import azure.eventhub

    location = os.path.dirname(os.path.abspath(azure.eventhub.__file__))
    own = bool(SITE) and location.startswith(os.path.abspath(SITE) + os.sep)
    return {"azure_eventhub": azure.eventhub.__version__, "location": location, "own": own}


def require_own():
    """Stops the script when azure-eventhub is not the copy in INTEROP_SITE, naming the one that loaded."""
    found = azure_eventhub()
    if not found["own"]:
        sys.exit(f"azure-eventhub {found['azure_eventhub']} loaded from {found['location']}, "
                 f"not the copy in INTEROP_SITE={SITE or '(unset)'}; run `bash .ci/install-python-clients.sh`")


_bind_azure_namespace()

if __name__ == "__main__":
    import proton

    print(json.dumps({**azure_eventhub(), "proton": ".".join(map(str, proton.VERSION))}), flush=True)
