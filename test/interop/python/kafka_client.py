"""confluent-kafka (librdkafka) against the emulator's Kafka endpoint, for the interop tests.

Prints one JSON object per line on stdout. Settings from the environment: KAFKA_BOOTSTRAP_SERVERS and
EVENTHUB_CONNECTION_STRING (the SASL/PLAIN password, with the username $ConnectionString).

  metadata
  produce  --topic T --count N [--key K] [--idempotence] [--compression none|gzip|lz4]
  consume  --topic T --group G --count N [--timeout S]
"""
import argparse
import json
import os
import sys
import time

import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition


def settings(extra):
    base = {
        "bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "$ConnectionString",
        "sasl.password": os.environ["EVENTHUB_CONNECTION_STRING"],
    }
    base.update(extra)
    return base


def emit(**fields):
    print(json.dumps(fields), flush=True)


def metadata(_args):
    producer = Producer(settings({}))
    cluster = producer.list_topics(timeout=30)
    emit(
        version=confluent_kafka.version()[0],
        librdkafka=confluent_kafka.libversion()[0],
        brokers=[{"id": b.id, "host": b.host, "port": b.port} for b in cluster.brokers.values()],
        topics={name: sorted(t.partitions.keys()) for name, t in cluster.topics.items()},
    )


def produce(args):
    extra = {"compression.codec": args.compression}
    if args.idempotence:
        extra["enable.idempotence"] = True
    producer = Producer(settings(extra))
    results = []

    def delivered(error, message):
        if error is None:
            results.append({"partition": message.partition(), "offset": message.offset(), "value": message.value().decode()})
        else:
            results.append({"error": error.name(), "code": error.code(), "value": message.value().decode()})

    for i in range(args.count):
        value = f"{args.prefix}-{i}" + ("x" * args.pad)
        producer.produce(args.topic, value=value.encode(), key=args.key.encode() if args.key else None,
                         headers=[("index", str(i).encode())], on_delivery=delivered)
    left = producer.flush(60)
    for result in results:
        emit(delivery=result)
    emit(left=left)


def consume(args):
    consumer = Consumer(settings({"group.id": args.group, "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    consumer.subscribe([args.topic])
    seen = 0
    deadline = time.time() + args.timeout
    while seen < args.count and time.time() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            emit(error=str(message.error()))
            continue
        seen += 1
        kind, timestamp = message.timestamp()
        emit(record={
            "partition": message.partition(),
            "offset": message.offset(),
            "key": message.key().decode() if message.key() else None,
            "value": message.value().decode() if message.value() is not None else None,
            "headers": {k: v.hex() if v is not None else None for k, v in (message.headers() or [])},
            "timestamp_type": kind,
            "timestamp": timestamp,
        })
    consumer.commit(asynchronous=False)
    partitions = [TopicPartition(args.topic, p) for p in sorted({tp.partition for tp in consumer.assignment()})]
    emit(committed={tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=30)})
    consumer.close()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("metadata")
    p = sub.add_parser("produce")
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--key")
    p.add_argument("--prefix", default="py")
    p.add_argument("--pad", type=int, default=0)
    p.add_argument("--idempotence", action="store_true")
    p.add_argument("--compression", default="none")
    c = sub.add_parser("consume")
    c.add_argument("--topic", required=True)
    c.add_argument("--group", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    {"metadata": metadata, "produce": produce, "consume": consume}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
