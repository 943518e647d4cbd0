# PixyProxy: slim Python, dependencies before code, non-root, `pixyproxy serve`.
# Debian 12, like CI: mysql-connector-python 9.5's C extension is tested there.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 pixy
WORKDIR /app

# Dependencies first, so code changes do not reinstall them, at the versions pinned in
# constraints.txt (what CI tested). (No heredoc: the classic builder that
# docker-compose 1.x uses does not know them.)
COPY pyproject.toml constraints.txt /src/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt -c /src/constraints.txt \
 && python -c "from mysql.connector import HAVE_CEXT; assert HAVE_CEXT, 'no C extension'"

# Then the project itself, non-editable, as a wheel would install it: the sources are
# built into site-packages and removed, so nothing runs from a source tree.
COPY core /src/core
COPY data /src/data
COPY storage /src/storage
COPY service /src/service
COPY web /src/web
COPY cli /src/cli
COPY sql /src/sql
COPY README.md /src/
RUN pip install --no-deps /src && rm -rf /src /tmp/requirements.txt \
 && mkdir -p /app/var && chown pixy:pixy /app/var

USER pixy
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["pixyproxy", "serve", "--host", "0.0.0.0", "--port", "8000"]
