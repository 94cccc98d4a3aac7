# Kefu: one image for every `kefu serve` worker and for `kefu db upgrade`.
# Build: docker build -t kefu .   (see docs/DEPLOY.md; not built in this project's CI)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    KEFU_CONFIG=/app/config.yml KEFU_APP__DATA_DIR=/var/lib/kefu \
    KEFU_NLU__MODEL_DIR=/app/nlu-model KEFU_APP__ENVIRONMENT=production

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY nlu ./nlu
COPY handlers ./handlers
COPY scheduler ./scheduler
RUN pip install .
COPY config.yml knowledge.yml ./
# Train the embedded NLU model once, at build time, so workers start without training.
RUN KEFU_SECRET_KEY=build-only-not-a-secret kefu nlu train \
    && useradd --system --home /var/lib/kefu --create-home kefu \
    && chown -R kefu /var/lib/kefu
USER kefu
EXPOSE 8000
# FORWARDED_ALLOW_IPS: addresses of the reverse proxy whose X-Forwarded-For uvicorn trusts.
CMD ["kefu", "serve", "--host", "0.0.0.0", "--port", "8000"]
