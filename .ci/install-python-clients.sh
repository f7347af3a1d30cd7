#!/usr/bin/env bash
# Installs the non-JavaScript clients the interop tests drive, from Debian packages only:
#   - Qpid Proton's Python binding (bookworm's python3-qpid-proton, installed with apt);
#   - librdkafka's clients for the Kafka endpoint: kcat and python3-confluent-kafka (installed with apt);
#   - Microsoft's azure-eventhub 5.15.1 with its blob checkpoint store and azure-core, from trixie's
#     python3-azure (bookworm's is too old), unpacked beside the project in .ci/.python without touching
#     the system's packages or apt sources (a private apt state under .ci/.python/apt is used for it).
# A system-wide azure (Debian's python3-azure, azure-eventhub 5.11) would win over PYTHONPATH, so the tests load
# the clients through test/interop/python/own_clients.py, and so does the check here.
# Idempotent and quick when everything is there. Runs as root on Debian; elsewhere it says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3
TARGET=.ci/.python
SITE="$TARGET/usr/lib/python3/dist-packages"
VERSION=5.15.1
STAMP="$TARGET/installed-azure-eventhub-$VERSION"
# What the interop tests load: {"azure_eventhub": version, "location", "own": from $SITE, "proton": version}.
loaded() { INTEROP_SITE="$PWD/$SITE" "$PYTHON" -s -E -B test/interop/python/own_clients.py; }
# azure-core, azure-eventhub and the blob checkpoint store (which vendors its storage client); the rest
# of python3-azure's 500 MB is not needed.
AZURE_PATHS=(
  './usr/lib/python3/dist-packages/azure/core/*'
  './usr/lib/python3/dist-packages/azure/eventhub/*'
  './usr/lib/python3/dist-packages/azure_core-*'
  './usr/lib/python3/dist-packages/azure_eventhub-*'
  './usr/lib/python3/dist-packages/azure_eventhub_checkpointstoreblob-*'
)

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-python-clients: no apt-get here; install python3-qpid-proton and azure-eventhub 5.15.1 yourself" >&2
  exit 1
fi

# Debian's own interpreter, its Proton and librdkafka bindings, kcat, and what azure-core and the blob store import.
if ! "$PYTHON" -c 'import proton, confluent_kafka, requests, isodate, cryptography' >/dev/null 2>&1 || ! command -v kcat >/dev/null 2>&1; then
  echo "install-python-clients: installing python3, python3-qpid-proton, python3-confluent-kafka and kcat from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-qpid-proton python3-confluent-kafka kcat python3-requests python3-isodate python3-cryptography >/dev/null
fi

if [ ! -f "$STAMP" ]; then
  echo "install-python-clients: fetching python3-azure and python3-typing-extensions from Debian trixie" >&2
  state="$TARGET/apt"
  rm -rf "$state"
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$SITE"
  mirror="$( (grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true) | head -n1 | tr -d ' ')"
  echo "deb ${mirror:-http://deb.debian.org/debian} trixie main" >"$state/sources.list"
  apt_private=(-o "Dir::Etc::sourcelist=$PWD/$state/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$PWD/$state/lists" -o "Dir::Cache::archives=$PWD/$state/archives" -o "APT::Get::List-Cleanup=0")
  apt-get "${apt_private[@]}" update -qq
  (cd "$state" && apt-get "${apt_private[@]}" download python3-azure python3-typing-extensions 2>&1 | grep -v "unsandboxed" >&2 || true)
  azure_deb="$(ls "$state"/python3-azure_*.deb)"
  typing_deb="$(ls "$state"/python3-typing-extensions_*.deb)"
  dpkg-deb --fsys-tarfile "$azure_deb" | tar -x -C "$TARGET" --wildcards "${AZURE_PATHS[@]}"
  dpkg -x "$typing_deb" "$TARGET"
  rm -rf "$state"
  loaded | "$PYTHON" -c 'import json, sys; found = json.load(sys.stdin); sys.exit(None if found["own"] and found["azure_eventhub"] == sys.argv[1] else f"unpacked azure-eventhub, but {found} loads")' "$VERSION"
  touch "$STAMP"
fi

loaded | "$PYTHON" -c 'import json, sys; print("install-python-clients: azure-eventhub {azure_eventhub} ({location}) and Qpid Proton {proton} ready".format(**json.load(sys.stdin)))' >&2
"$PYTHON" -c 'import confluent_kafka; print("install-python-clients: confluent-kafka %s ready" % confluent_kafka.version()[0])' >&2
kcat -V | grep -m1 Version >&2
