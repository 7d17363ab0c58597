# newsbot as a container: a slim Python image, the bot installed as a wheel, run as a
# non-root user. Build: docker build -t newsbot .   Run with PostgreSQL: docker compose up
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgres]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /app newsbot
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY config ./config
RUN mkdir -p /app/data && chown newsbot /app/data
USER newsbot
ENV NEWSBOT_CONFIG=/app/config/newsbot.yaml \
    NEWSBOT_DATABASE_URL=sqlite:////app/data/newsbot.db \
    NEWSBOT_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME ["/app/data"]
CMD ["newsbot", "run"]
