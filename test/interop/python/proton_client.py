"""A generic AMQP 1.0 client (Qpid Proton's Python binding) against the emulator, as against Azure:
put a SAS token on $cbs, then send to an address or receive from one. Prints JSON lines on stdout.

Usage: proton_client.py send <address> <count> | receive <address> <count>
Environment: EMULATOR_PORT, SAS_KEY_NAME, SAS_KEY.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
import uuid

import proton
from proton import Message
from proton.utils import BlockingConnection

PORT = os.environ["EMULATOR_PORT"]
TIMEOUT = 30


def emit(value):
    print(json.dumps(value, default=str), flush=True)


def sas_token(audience):
    resource = urllib.parse.quote(audience, safe="")
    expiry = str(int(time.time()) + 3600)
    digest = hmac.new(os.environ["SAS_KEY"].encode(), f"{resource}\n{expiry}".encode(), hashlib.sha256).digest()
    signature = urllib.parse.quote(base64.b64encode(digest).decode(), safe="")
    return f"SharedAccessSignature sr={resource}&sig={signature}&se={expiry}&skn={os.environ['SAS_KEY_NAME']}"


def put_token(connection, address):
    audience = f"sb://127.0.0.1:{PORT}/{address}"
    replies = connection.create_receiver("$cbs", name="cbs-replies")
    requests = connection.create_sender("$cbs")
    request = Message(
        id=str(uuid.uuid4()), reply_to="cbs-replies", body=sas_token(audience),
        properties={"operation": "put-token", "type": "servicebus.windows.net:sastoken", "name": audience},
    )
    requests.send(request, timeout=TIMEOUT)
    reply = replies.receive(timeout=TIMEOUT)
    replies.accept()
    status = reply.properties.get("status-code")
    emit({"put_token": status, "correlation_matches": reply.correlation_id == request.id})
    requests.close()
    replies.close()


def main():
    command, address, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    connection = BlockingConnection(f"amqp://127.0.0.1:{PORT}", timeout=TIMEOUT, allowed_mechs="ANONYMOUS")
    try:
        put_token(connection, address)
        if command == "send":
            sender = connection.create_sender(address)
            for i in range(count):
                sender.send(Message(body=f"proton-{i}", properties={"client": "proton"}), timeout=TIMEOUT)
            emit({"sent": count})
        else:
            receiver = connection.create_receiver(address, credit=count)
            for _ in range(count):
                message = receiver.receive(timeout=TIMEOUT)  # events arrive pre-settled, as from Azure
                annotations = message.annotations or {}
                emit({"event": {
                    "body": message.body,
                    "annotations": {str(k): repr(v) for k, v in annotations.items()},
                    "types": {str(k): type(v).__name__ for k, v in annotations.items()},
                }})
            emit({"done": count})
    finally:
        connection.close()
    emit({"proton": proton.VERSION})


if __name__ == "__main__":
    main()
