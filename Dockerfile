FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Pango for WeasyPrint's PDFs; Node.js for the design system's assets.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-dejavu-core nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir -e .
COPY . .
RUN if [ -f scripts/assets.sh ]; then bash scripts/assets.sh; fi \
    && DSR_ENV=production DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost \
       python manage.py collectstatic --noinput -v0
RUN useradd --create-home dsr && mkdir -p /app/var/media && chown -R dsr /app/var
USER dsr
EXPOSE 8000
CMD ["gunicorn", "dsr.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
