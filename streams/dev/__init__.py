"""Tools for development and tests, not the product's runtime: `broker` (a local Kafka, `newsclean
broker ...`), `process` (a worker in a child process), `demo` (`newsclean demo`)."""
