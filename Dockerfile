# The image of the worker and the scheduler in docker-compose.yml.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The exact set the tests ran on, spaCy models included (nothing is downloaded at run time).
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY conf ./conf
COPY state ./state
COPY vigie ./vigie
COPY ingest ./ingest
COPY index ./index
COPY worker ./worker
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --create-home vigie \
    && mkdir -p /var/lib/vigie && chown vigie /var/lib/vigie
USER vigie
ENTRYPOINT []
CMD ["vigie", "--help"]
