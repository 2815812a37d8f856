# regsosek-bot: the bot in a container (see deploy/README.md and deploy/compose.yaml).
#
#   docker build -t regsosek-bot .
#   docker run --env-file .env -v regsosek-data:/data -p 127.0.0.1:8080:8080 regsosek-bot
#
# Stage 1 builds the project's wheel; stage 2 installs only that wheel (and its dependencies)
# into a slim Python image and runs it as an unprivileged user, with the database on /data.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY db ./db
COPY handlers ./handlers
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/regsosek.db \
    WEBHOOK_LISTEN=0.0.0.0:8080 \
    HEALTH_LISTEN=0.0.0.0:8080 \
    LOG_FORMAT=json
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin regsosek \
    && mkdir -p /data \
    && chown regsosek:regsosek /data
USER regsosek
WORKDIR /data
VOLUME ["/data"]
# The webhook (webhook mode), /healthz and /metrics: plain HTTP for the reverse proxy in front.
EXPOSE 8080
# `status` asks the bot's /healthz (on WEBHOOK_LISTEN, or HEALTH_LISTEN when polling) and
# exits 1 when it answers 503 or not at all.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "status"]
# SIGTERM (docker stop): the bot stops taking updates, handles those received, exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
