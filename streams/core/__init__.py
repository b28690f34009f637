"""The pure core: no Kafka, no asyncio, no I/O. Everything here is a plain function of its inputs
(plus the state passed in through `SeenStore`), so the worker and the offline mode share it."""
