"""Which codec the record batches of a topic partition were stored with, read from the broker's
own fetch response (a consumer decompresses without saying how)."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords

CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}  # the batch header's attribute bits


async def stored_codecs(bootstrap: str, topic: str, partition: int = 0) -> list[str]:
    """The codec of each data batch from the start of the partition (up to 4 MiB of it);
    transaction markers (control batches, never compressed) are left out."""
    names = {number: name for name, number in CODEC_IDS.items()}
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        leader = (await client.fetch_all_metadata()).leader_for_partition(TopicPartition(topic, partition))
        response = await client.send(leader, FetchRequest(100, 1, 4 << 20, 0, [(topic, [(partition, 0, 4 << 20)])]))
        records = MemoryRecords(response.topics[0][1][0][-1])  # the partition's record set is its last field
        codecs = []
        while (batch := records.next_batch()) is not None:
            if not batch.is_control_batch:
                codecs.append(names[batch.compression_type])
        return codecs
    finally:
        await client.close()
