"""The replay's own topics: created when missing, and checked for time-based deletion.

Kafka's time retention goes by record timestamps, and a backfill's records carry their
historical event times (as live output does). Under the usual `cleanup.policy=delete` with a
7-day `retention.ms`, the broker would delete a 2019 backfill minutes after writing it: as soon
as a segment rolls (a transaction marker stamped "now" after records stamped 2019 rolls it), the
cleaner finds every record in it "older than 7 days". So the backfill output is created compacted
only (it converges to the newest envelope per uri, and keeps it), and an existing output topic
that deletes by time is reported."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from streams.kafka.topics import create_missing

async def ensure_replay_topics(
    admin: AIOKafkaAdminClient, output: str, dlq: str, state: str, partitions: int, record_bytes: int
) -> list[str]:
    """Create what is missing; return a warning when an existing output topic deletes by time."""
    existing = set(await admin.list_topics())
    sized = {"max.message.bytes": str(record_bytes)}
    wanted = [
        # the live output's partition count, so that a uri lands on the same partition number
        NewTopic(output, partitions, 1, topic_configs={"cleanup.policy": "compact", **sized}),
        NewTopic(dlq, 1, 1, topic_configs=sized),  # dead letters are stamped when they are written
        NewTopic(state, 1, 1, topic_configs={"cleanup.policy": "compact"}),
    ]
    await create_missing(admin, wanted, existing)
    warning = await _time_deletion(admin, output) if output in existing else ""
    return [warning] if warning else []


async def _time_deletion(admin: AIOKafkaAdminClient, topic: str) -> str:
    described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    configs = {entry[0]: entry[1] for response in described for resource in response.resources for entry in resource[4]}
    policy, retention = configs.get("cleanup.policy", "delete"), configs.get("retention.ms", "604800000")
    if "delete" not in policy or retention == "-1":
        return ""
    return (f"topic {topic} deletes records whose timestamp is older than retention.ms={retention}; replayed records "
            f"carry their event times, so Kafka may delete them soon after they are written "
            f"(set retention.ms=-1 or cleanup.policy=compact on it)")
