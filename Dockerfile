# The image of `paramedic serve` (deploy/serve): docker build -t paramedic:0.1.0 .
FROM python:3.11-slim
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install --no-cache-dir -c constraints.txt . \
 && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin paramedic \
 && mkdir -p /var/lib/paramedic && chown 10001:10001 /var/lib/paramedic
USER 10001
EXPOSE 8080
ENTRYPOINT ["paramedic"]
CMD ["serve", "--listen=0.0.0.0:8080", "--store=sqlite:////var/lib/paramedic/paramedic.db"]
