"""Drives the emulator with Microsoft's Python SDK (azure-eventhub, pure-Python pyamqp transport).

One subcommand per scenario; every result is one JSON object per line on stdout, so the TypeScript test
can assert on it. Connection details come from the environment: EVENTHUB_CONNECTION_STRING,
EVENTHUB_NAME and, for checkpoint scenarios, STORAGE_CONNECTION_STRING and CHECKPOINT_CONTAINER.
"""
import argparse
import datetime
import json
import os
import sys
import threading

import own_clients  # before any azure import: azure-eventhub from .ci/.python, not a system-wide copy

own_clients.require_own()

from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient, __version__
from azure.eventhub.exceptions import AuthenticationError, EventHubError

HUB = os.environ.get("EVENTHUB_NAME", "events")
CONNECTION_STRING = os.environ.get("EVENTHUB_CONNECTION_STRING", "")


def emit(value):
    print(json.dumps(value, default=str), flush=True)


def producer(connection_string=CONNECTION_STRING):
    return EventHubProducerClient.from_connection_string(connection_string, eventhub_name=HUB, retry_total=1)


def event_json(event, partition_id):
    return {
        "partition": partition_id,
        "body": event.body_as_str(),
        "sequence_number": event.sequence_number,
        "offset": event.offset,
        "enqueued_time": event.enqueued_time.timestamp() * 1000 if event.enqueued_time else None,
        "partition_key": event.partition_key.decode() if isinstance(event.partition_key, bytes) else event.partition_key,
        "properties": {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v for k, v in (event.properties or {}).items()},
        "offset_type": type(event.offset).__name__,
        "sequence_number_type": type(event.sequence_number).__name__,
    }


def properties(_args):
    with producer() as client:
        hub = client.get_eventhub_properties()
        emit({"version": __version__, "hub": hub})
        for partition_id in hub["partition_ids"]:
            emit({"partition": client.get_partition_properties(partition_id)})


def send(args):
    with producer() as client:
        bodies = [f"{args.prefix}-{i}" for i in range(args.count)]
        if args.mode == "event":  # one send_event call per event, the SDK's simplest path
            for body in bodies:
                event = EventData(body)
                event.properties = {"source": "python", "index": body}
                options = {"partition_key": args.key} if args.key else {"partition_id": args.partition} if args.partition else {}
                client.send_event(event, **options)
        else:  # batches, split as the SDK's size accounting decides
            options = {"partition_key": args.key} if args.key else {"partition_id": args.partition} if args.partition else {}
            batch = client.create_batch(**options)
            batches = 0
            for body in bodies:
                event = EventData(body)
                event.properties = {"source": "python"}
                try:
                    batch.add(event)
                except ValueError:
                    client.send_batch(batch)
                    batches += 1
                    batch = client.create_batch(**options)
                    batch.add(event)
            client.send_batch(batch)
            batches += 1
            emit({"batches": batches, "max_size_in_bytes": batch.max_size_in_bytes})
        emit({"sent": len(bodies)})


def starting_position(spec):
    kind, _, value = spec.partition(":")
    if kind == "earliest":
        return "-1"
    if kind == "latest":
        return "@latest"
    if kind == "sequence":
        return int(value)
    if kind == "offset":
        return value
    if kind == "time":
        return datetime.datetime.fromtimestamp(int(value) / 1000, tz=datetime.timezone.utc)
    raise SystemExit(f"unknown start position {spec!r}: use earliest, latest, sequence:N, offset:X or time:MS")


def run_consumer(client, on_event, args, **receive_options):
    """Receives until on_event says stop or the timeout passes; bounded either way."""
    stop = threading.Event()
    worker = threading.Thread(target=lambda: client.receive(on_event=lambda ctx, ev: on_event(ctx, ev, stop), **receive_options), daemon=True)
    worker.start()
    emit({"receiving": True})
    stop.wait(args.timeout)
    client.close()
    worker.join(args.timeout)


def receive(args):
    client = EventHubConsumerClient.from_connection_string(CONNECTION_STRING, args.consumer_group, eventhub_name=HUB, retry_total=1)
    received = []

    def on_event(context, event, stop):
        if event is None:
            return
        received.append(event)
        emit({"event": event_json(event, context.partition_id)})
        if len(received) >= args.count:
            stop.set()

    run_consumer(
        client, on_event, args,
        partition_id=args.partition,
        starting_position=starting_position(args.start),
        starting_position_inclusive=args.inclusive,
    )
    emit({"done": len(received)})


def checkpoint_store():
    from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore

    return BlobCheckpointStore.from_connection_string(os.environ["STORAGE_CONNECTION_STRING"], os.environ["CHECKPOINT_CONTAINER"])


def consume_with_checkpoints(args):
    client = EventHubConsumerClient.from_connection_string(
        CONNECTION_STRING, args.consumer_group, eventhub_name=HUB, checkpoint_store=checkpoint_store(),
        load_balancing_interval=1, retry_total=1,
    )
    seen = set()

    def on_event(context, event, stop):
        if event is None:
            return
        seen.add((context.partition_id, event.sequence_number))
        emit({"event": event_json(event, context.partition_id)})
        context.update_checkpoint(event)
        if len(seen) >= args.count:
            stop.set()

    run_consumer(client, on_event, args, starting_position="-1")
    emit({"done": len(seen)})


def list_checkpoints(args):
    """Lists checkpoints under <namespace>/<hub>/<consumer group>/checkpoint/ as the Python store reads them."""
    for checkpoint in checkpoint_store().list_checkpoints(args.namespace, HUB, args.consumer_group):
        emit({"checkpoint": checkpoint})


def wrong_key(_args):
    parts = [p for p in CONNECTION_STRING.split(";") if not p.startswith("SharedAccessKey=")]
    parts.append("SharedAccessKey=not-the-key")
    try:
        with producer(";".join(parts)) as client:
            client.get_eventhub_properties()
        emit({"error": None})
    except AuthenticationError as error:
        emit({"error": "AuthenticationError", "message": str(error)})
    except EventHubError as error:
        emit({"error": type(error).__name__, "message": str(error)})


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("properties").set_defaults(run=properties)
    sender = commands.add_parser("send")
    sender.add_argument("--mode", choices=["event", "batch"], default="batch")
    sender.add_argument("--key")
    sender.add_argument("--partition")
    sender.add_argument("--count", type=int, default=1)
    sender.add_argument("--prefix", default="py")
    sender.set_defaults(run=send)
    for name, run in (("receive", receive), ("consume-with-checkpoints", consume_with_checkpoints)):
        command = commands.add_parser(name)
        command.add_argument("--consumer-group", default="$Default")
        command.add_argument("--partition", default="0")
        command.add_argument("--start", default="earliest")
        command.add_argument("--inclusive", action="store_true")
        command.add_argument("--count", type=int, default=1)
        command.add_argument("--timeout", type=float, default=60)
        command.set_defaults(run=run)
    checkpoints = commands.add_parser("list-checkpoints")
    checkpoints.add_argument("--consumer-group", default="$Default")
    checkpoints.add_argument("--namespace", required=True, help="the blob prefix's namespace, e.g. 127.0.0.1")
    checkpoints.set_defaults(run=list_checkpoints)
    commands.add_parser("wrong-key").set_defaults(run=wrong_key)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
