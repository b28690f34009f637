"""The Kafka and log4j jars the local broker runs on, fetched from Maven Central through Maven
into a cached, git-ignored folder (`<repo>/.kafka/lib`, or `$NEWSCLEAN_KAFKA_HOME/lib`):
`newsclean broker fetch`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

KAFKA_VERSION = "4.1.2"
# kafka_2.13 4.1.2 resolves slf4j-api 1.7.36 and brings no logging backend. Kafka's own
# distribution pairs it with log4j 2.24.3 and the SLF4J 1.x bridge (log4j-slf4j-impl);
# the SLF4J 2 bridge (log4j-slf4j2-impl) is invisible to slf4j-api 1.7 and would mute the broker.
LOG4J_VERSION = "2.24.3"
SLF4J_BRIDGE = "log4j-slf4j-impl"
REQUIRED_JARS = (f"kafka_2.13-{KAFKA_VERSION}.jar", f"log4j-api-{LOG4J_VERSION}.jar",
                 f"log4j-core-{LOG4J_VERSION}.jar", f"{SLF4J_BRIDGE}-{LOG4J_VERSION}.jar", "slf4j-api-1.7.36.jar")
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
MVN_HINT = "install Apache Maven (e.g. `apt-get install maven`) to fetch the Kafka jars"
JAVA_HINT = "install a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)"


class BrokerError(RuntimeError):
    """A broker operation failed; the message says what is missing or what to do."""


def default_home() -> Path:
    env = os.environ.get("NEWSCLEAN_KAFKA_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".kafka"


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BrokerError(f"`{name}` not found on PATH: {hint}")
    return path


def render_pom() -> str:
    deps = [("org.apache.kafka", "kafka_2.13", KAFKA_VERSION)] + [
        ("org.apache.logging.log4j", a, LOG4J_VERSION) for a in ("log4j-api", "log4j-core", SLF4J_BRIDGE)]
    body = "".join(f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
                   f"<version>{v}</version></dependency>" for g, a, v in deps)
    return ('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>local.newsclean</groupId><artifactId>kafka-runtime</artifactId><version>1</version>"
            f"<packaging>pom</packaging><dependencies>{body}</dependencies></project>\n")


def jars_present(lib: Path) -> bool:
    return all((lib / name).is_file() for name in REQUIRED_JARS)


def fetch_jars(home: Path | None = None) -> bool:
    """Download the Kafka + log4j2 jars into `<home>/lib`; False (and no Maven) when already there."""
    lib = (home or default_home()) / "lib"
    if jars_present(lib):
        return False
    require_tool("java", JAVA_HINT)
    mvn = require_tool("mvn", MVN_HINT)
    pom, partial = lib.with_name("pom.xml"), lib.with_name("lib.partial")
    pom.parent.mkdir(parents=True, exist_ok=True)
    pom.write_text(render_pom())
    shutil.rmtree(partial, ignore_errors=True)
    print(f"fetching kafka_2.13 {KAFKA_VERSION} + log4j {LOG4J_VERSION} from Maven Central ...", flush=True)
    done = subprocess.run([mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(pom),
                           f"{DEPENDENCY_PLUGIN}:copy-dependencies", "-DincludeScope=runtime",
                           f"-DoutputDirectory={partial}"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        said = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).strip()
        tail = "\n".join(said.splitlines()[-15:])
        raise BrokerError(f"mvn could not fetch the Kafka jars (is Maven Central reachable?); mvn said:\n{tail}")
    if not jars_present(partial):
        raise BrokerError(f"mvn finished but {partial} lacks one of {REQUIRED_JARS}")
    shutil.rmtree(lib, ignore_errors=True)
    partial.rename(lib)  # a half-done fetch never looks complete
    return True
